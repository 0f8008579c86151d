"""The sweep: the database is the source of truth; re-enqueue whatever Redis lost or forgot."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session, aliased

from bizproc_app.config import Config
from bizproc_app.models import FINAL_STATES, HandlerCall, Payment, PaymentState, Portal, Terminal
from bizproc_app.payments import attention, states
from bizproc_app.payments.jobs import Jobs
from bizproc_app.payments.pipeline import EXPIRED_REASON, after_final
from bizproc_app.payments.transitions import Event, move
from bizproc_app.portals.installation import purge_idle_secrets

BATCH = 500
# Work this old was missed (its own job normally starts it within a second): start it again.
OPEN_STATES = (PaymentState.SENDING, PaymentState.IN_PROGRESS, PaymentState.UNKNOWN)


@dataclass
class Sweep:
    """One pass over what is open; safe to run as often as wanted."""

    cfg: Config
    session: Session
    enqueue: Jobs

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

    def _queued(self, now: datetime, done: Counter[str]) -> None:
        too_old = now - timedelta(seconds=self.cfg.TERMINAL_BUSY_WAIT_SECONDS)
        minutes = self.cfg.TERMINAL_BUSY_WAIT_SECONDS / 60
        for payment in self.session.scalars(
            select(Payment)
            .where(
                Payment.state == PaymentState.QUEUED,
                or_(Payment.created_at < too_old, Payment.deadline_at <= now),
            )
            .order_by(Payment.created_at)
            .limit(BATCH)
        ):
            # Each ending applies only while the payment is still queued and unsent: a runner
            # that took it for its PIN pad meanwhile wins.
            deadline = states.aware(payment.deadline_at)
            if deadline is not None and now >= deadline:
                event, reason = Event.EXPIRED, EXPIRED_REASON
            else:
                event, reason = Event.BUSY_TIMEOUT, f"terminal busy: waited {minutes:g} minutes"
            if states.end(self.session, payment, event, reason, source="sweep"):
                self.enqueue.reports(payment.portal_id)
                done["deadline" if event is Event.EXPIRED else "busy_timeout"] += 1
        # A free PIN pad (or one held by a payment that has ended) with a payment waiting for a
        # while: the kick that should have started it was lost.
        held = aliased(Payment)
        stale = now - timedelta(seconds=self.cfg.timings.sweep_stale)
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

    def _open(self, now: datetime, done: Counter[str]) -> None:
        quiet = now - timedelta(seconds=self.cfg.PAYMENT_EVENT_TIMEOUT_SECONDS)
        horizon = timedelta(seconds=self.cfg.PAYMENT_UNKNOWN_HORIZON_SECONDS)
        stmt = (
            select(Payment)
            .where(
                Payment.state.in_(OPEN_STATES),
                Payment.attention_at.is_(None),
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
                if states.end(self.session, payment, Event.EXPIRED, EXPIRED_REASON, source="sweep"):
                    after_final(self.enqueue, payment.terminal_id, payment.portal_id)
                    done["deadline"] += 1
                continue
            if deadline and now >= deadline and payment.reported_status is None:
                # No outcome by the deadline: the workflow and people are told "unknown".
                move(self.session, payment.id, Event.LOST, acting_on=payment.session_id)
                if self._report_unknown(payment.id):
                    self.enqueue.reports(payment.portal_id)
                    done["deadline"] += 1
                self.session.commit()
            if sent and now - sent > horizon and payment.state == PaymentState.UNKNOWN:
                # Past the horizon: it leaves this query; people decide (Needs attention).
                if attention.give_up(self.session, payment):
                    self.enqueue.reports(payment.portal_id)
                    done["gave_up"] += 1
                continue
            if sent is None:  # a send job that died before the request left: resume it
                stuck = states.aware(payment.updated_at) <= now - stuck_after
                if payment.state == PaymentState.SENDING and stuck:
                    self.enqueue.recover(payment.id)
                    done["resume"] += 1
                continue
            last = states.aware(payment.last_event_at) or sent
            if last <= quiet:
                self.enqueue.recover(payment.id)
                done["recover"] += 1

    def _report_unknown(self, payment_id: str) -> bool:
        """Mark an unknown payment's report due once (its state does not change)."""
        return bool(
            self.session.execute(
                update(Payment)
                .where(
                    Payment.id == payment_id,
                    Payment.state == PaymentState.UNKNOWN,
                    Payment.reported_status.is_(None),
                    Payment.report_state != "pending",
                )
                .values(report_state="pending")
                .execution_options(synchronize_session=False)
            ).rowcount
        )

    def _reports(self, now: datetime, done: Counter[str]) -> None:
        """Portals with a report due again (back-off over) or missed (pending for a while)."""
        stale = now - timedelta(seconds=self.cfg.timings.sweep_stale)
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

    def _calls(self, now: datetime, done: Counter[str]) -> None:
        stale = now - timedelta(seconds=2 * self.cfg.timings.sweep_stale)
        for portal_id in self.session.scalars(
            select(HandlerCall.portal_id)
            .where(HandlerCall.state.in_(("received", "invalid")), HandlerCall.created_at <= stale)
            .distinct()
        ):
            self.enqueue.calls(portal_id)
            done["calls"] += 1
