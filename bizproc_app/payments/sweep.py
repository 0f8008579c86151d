"""The sweep: the database is the source of truth; re-enqueue whatever Redis lost or forgot."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, aliased

from bizproc_app.config import Config
from bizproc_app.installation import purge_idle_secrets
from bizproc_app.models import FINAL_STATES, HandlerCall, Payment, Portal, Terminal
from bizproc_app.payments import states
from bizproc_app.portals import journal

BATCH = 500
# Work this old was missed (its own job normally starts it within a second): start it again.
STALE_SECONDS = 15


class Enqueue(Protocol):
    """The jobs the sweep may (re)start; each is idempotent."""

    def send_next(self, terminal_id: int) -> None: ...
    def recover(self, payment_id: str) -> None: ...
    def reports(self, portal_id: int) -> None: ...
    def calls(self, portal_id: int) -> None: ...


@dataclass
class Sweep:
    """One pass over what is open; safe to run as often as wanted."""

    cfg: Config
    session: Session
    enqueue: Enqueue

    def run(self) -> Counter[str]:
        """Do one pass; return what was done, by kind."""
        done: Counter[str] = Counter()
        now = states.now()
        self._queued(now, done)
        self._open(now, done)
        self._reports(now, done)
        self._calls(now, done)
        self._uninstalled(done)
        return done

    def _uninstalled(self, done: Counter[str]) -> None:
        """Delete secrets kept after an uninstall once their payments have ended."""
        for portal_id in self.session.scalars(
            select(Terminal.portal_id)
            .join(Portal, Portal.id == Terminal.portal_id)
            .where(Portal.uninstalled_at.is_not(None), Terminal.secret_enc.is_not(None))
            .distinct()
        ):
            if purge_idle_secrets(self.session, portal_id) == 0:
                done["secrets_purged"] += 1
            self.session.commit()

    def _queued(self, now, done: Counter[str]) -> None:  # type: ignore[no-untyped-def]
        too_old = now - timedelta(seconds=self.cfg.TERMINAL_BUSY_WAIT_SECONDS)
        for payment in self.session.scalars(
            select(Payment)
            .where(Payment.state == "queued", Payment.created_at < too_old)
            .order_by(Payment.created_at)
            .limit(BATCH)
        ):
            minutes = self.cfg.TERMINAL_BUSY_WAIT_SECONDS / 60
            reason = f"terminal busy: waited {minutes:g} minutes"
            if states.fail(self.session, payment, reason, source="sweep"):
                self.enqueue.reports(payment.portal_id)
                done["busy_timeout"] += 1
        # A free PIN pad (or one held by a payment that has ended) with a payment waiting for a
        # while: the kick that should have started it was lost.
        held = aliased(Payment)
        stale = now - timedelta(seconds=STALE_SECONDS)
        for terminal_id in self.session.scalars(
            select(Payment.terminal_id)
            .join(Terminal, Terminal.id == Payment.terminal_id)
            .outerjoin(held, held.id == Terminal.active_payment_id)
            .where(
                Payment.state == "queued",
                Payment.created_at < stale,
                or_(held.id.is_(None), held.state.in_(FINAL_STATES)),
            )
            .distinct()
            .limit(BATCH)
        ):
            self.enqueue.send_next(terminal_id)
            done["send_next"] += 1

    def _open(self, now, done: Counter[str]) -> None:  # type: ignore[no-untyped-def]
        quiet = now - timedelta(seconds=self.cfg.PAYMENT_EVENT_TIMEOUT_SECONDS)
        horizon = timedelta(seconds=self.cfg.PAYMENT_UNKNOWN_HORIZON_SECONDS)
        stmt = (
            select(Payment)
            .where(
                Payment.state.in_(("sending", "in_progress", "unknown")),
                or_(Payment.next_check_at.is_(None), Payment.next_check_at <= now),
            )
            .order_by(Payment.next_check_at)
            .limit(BATCH)
        )
        # A send job that has not set sent_at within its token call's time is dead (a live one
        # that wakes up finds sent_at or the state taken and stops: resuming it is safe).
        stuck_after = timedelta(seconds=5.0 + 2 * self.cfg.LINKLY_TIMEOUT_SECONDS)
        for payment in self.session.scalars(stmt):
            deadline = states.aware(payment.deadline_at)
            sent = states.aware(payment.sent_at)
            if deadline and now >= deadline and sent is None:
                # sent_at is set before the request goes: nothing left, so nothing was charged.
                reason = "not sent to the terminal before the deadline (not charged)"
                if states.fail(self.session, payment, reason, source="sweep"):
                    self.enqueue.send_next(payment.terminal_id)
                    self.enqueue.reports(payment.portal_id)
                    done["deadline"] += 1
                continue
            if deadline and now >= deadline and payment.reported_status is None:
                states.transition(
                    self.session, payment.id, ("sending", "in_progress"), state="unknown"
                )
                payment.report_state = "pending"
                self.session.commit()
                self.enqueue.reports(payment.portal_id)
                done["deadline"] += 1
            if sent and now - sent > horizon:
                payment.next_check_at = None  # past the horizon: people take it from here
                journal(
                    self.session, "payment.gave_up", portal=payment.portal_id, subject=payment.id
                )
                self.session.commit()
                continue
            if sent is None:  # a send job that died before the request left: resume it
                stuck = states.aware(payment.updated_at) <= now - stuck_after
                if payment.state == "sending" and stuck:
                    self.enqueue.recover(payment.id)
                    done["resume"] += 1
                continue
            last = states.aware(payment.last_event_at) or sent
            if last <= quiet:
                self.enqueue.recover(payment.id)
                done["recover"] += 1

    def _reports(self, now, done: Counter[str]) -> None:  # type: ignore[no-untyped-def]
        """Portals with a report due again (back-off over) or missed (pending for a while)."""
        stale = now - timedelta(seconds=STALE_SECONDS)
        for portal_id in self.session.scalars(
            select(Payment.portal_id)
            .where(
                Payment.report_state == "pending",
                or_(
                    Payment.report_next_at <= now,
                    and_(Payment.report_next_at.is_(None), Payment.updated_at <= stale),
                ),
            )
            .distinct()
        ):
            self.enqueue.reports(portal_id)
            done["reports"] += 1

    def _calls(self, now, done: Counter[str]) -> None:  # type: ignore[no-untyped-def]
        stale = now - timedelta(seconds=2 * STALE_SECONDS)
        for portal_id in self.session.scalars(
            select(HandlerCall.portal_id)
            .where(HandlerCall.state.in_(("received", "invalid")), HandlerCall.created_at <= stale)
            .distinct()
        ):
            self.enqueue.calls(portal_id)
            done["calls"] += 1
