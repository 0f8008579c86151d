"""The asynchronous pipeline: send one payment per terminal, take events, recover the lost."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bizproc_app.config import Config
from bizproc_app.linkly import (
    InvalidRequest,
    Key,
    LinklyClient,
    LinklyError,
    OutcomeUnknown,
    RecoveryState,
    SecretRejected,
    SessionNotFound,
    TerminalCredentials,
    TransactionResult,
    new_session_id,
    new_txn_ref,
)
from bizproc_app.models import Payment, PaymentState, Terminal
from bizproc_app.payments import states
from bizproc_app.payments.jobs import Jobs
from bizproc_app.payments.transitions import Event, move
from bizproc_app.portals.access import journal
from bizproc_app.storage.secret_box import SecretBox

log = logging.getLogger(__name__)
# Queued payments past their deadline that one send_next run ends before it yields.
MAX_EXPIRED_PER_RUN = 50
EXPIRED_REASON = "not sent to the terminal before the deadline (not charged)"


def after_final(jobs: Jobs, terminal_id: int, portal_id: int) -> None:
    """A payment ended: its PIN pad takes the next one, and Bitrix24 hears the outcome."""
    jobs.send_next(terminal_id)
    jobs.reports(portal_id)


def notify_hash(secret: str) -> str:
    """How a payment's notification secret is stored: hashed, never in clear."""
    return hashlib.sha256(secret.encode()).hexdigest()


def authorization_matches(stored_hash: str | None, header: str) -> bool:
    """Compare a notification's Authorization header with the stored hash, in constant time.

    We hand Linkly "Bearer <secret>" and it sends that back verbatim: nothing else is accepted.
    """
    token = header[len("Bearer ") :] if header and header.startswith("Bearer ") else ""
    expected = stored_hash or ""
    return hmac.compare_digest(notify_hash(token), expected) and bool(token) and bool(expected)


@dataclass
class Pipeline:
    """Drives payments against Linkly; every step is idempotent and safe to retry."""

    cfg: Config
    session: Session
    linkly: LinklyClient
    box: SecretBox
    jobs: Jobs

    def credentials(self, payment: Payment) -> TerminalCredentials:
        """The PIN pad's pairing secret and posId."""
        terminal = self.session.get(Terminal, payment.terminal_id)
        assert terminal is not None
        return TerminalCredentials(terminal.secret(self.box), terminal.pos_id)

    def send_next(self, terminal_id: int) -> str | None:
        """Start the oldest queued payment of a free terminal; return its id.

        Queued payments past their deadline are ended on the way (never sent, never charged).
        """
        for _ in range(MAX_EXPIRED_PER_RUN):
            payment = self.session.scalar(
                select(Payment)
                .where(Payment.terminal_id == terminal_id, Payment.state == PaymentState.QUEUED)
                .order_by(Payment.created_at, Payment.id)
                .limit(1)
            )
            if payment is None:
                return None
            if self._past_deadline(payment):
                self._expire(payment)
                continue
            # Take the payment first, then the PIN pad, in one transaction: a second runner that
            # picked the same payment loses the first step and must not touch the claim
            # (releasing it would free the PIN pad under a payment in flight).
            if not move(self.session, payment.id, Event.CLAIM):
                self.session.rollback()
                return None
            if not states.claim_terminal(self.session, terminal_id, payment.id):
                self.session.rollback()
                return None
            self.session.commit()
            self.session.refresh(payment)
            self.send(payment)
            return payment.id
        self.jobs.send_next(terminal_id)  # many expired at once: let other jobs have a turn
        return None

    def send(self, payment: Payment) -> None:
        """Send a claimed payment; once it may have left, only the recovery GET decides."""
        if payment.state != PaymentState.SENDING:
            return
        if payment.sent_at is not None:
            self.recover(payment)
            return
        if self._past_deadline(payment):
            self._expire(payment)
            return
        creds = self.credentials(payment)
        if payment.session_id is None:
            minted = move(
                self.session,
                payment.id,
                Event.MINT,
                session_id=new_session_id(),
                txn_ref=new_txn_ref(),
                attempt=Payment.attempt + 1,
            )
            self.session.commit()
            self.session.refresh(payment)
            if not minted:
                return
        try:
            self.linkly.token(credentials=creds)  # nothing leaves if this fails
        except SecretRejected:
            reason = "Linkly refused the terminal's secret: re-pair it (not charged)"
            self._end(payment, Event.REFUSED, reason, "send")
            return
        secret = secrets.token_urlsafe(32)
        # Whoever sets sent_at sends; a second runner, a cancel or an expiry stops it here.
        if not move(
            self.session,
            payment.id,
            Event.SEND,
            sent_at=states.now(),
            notify_hash=notify_hash(secret),
        ):
            self.session.rollback()
            self.session.refresh(payment)
            if payment.state == PaymentState.SENDING and self._past_deadline(payment):
                self._expire(payment)
            return
        self.session.commit()
        self.session.refresh(payment)
        journal(
            self.session,
            "linkly.request",
            portal=payment.portal_id,
            subject=payment.id,
            session_id=payment.session_id,
            txn_ref=payment.txn_ref,
            kind=payment.kind,
            amount_cents=payment.amount_cents,
        )
        self.session.commit()
        self._submit(payment, creds, secret)

    def _submit(self, payment: Payment, creds: TerminalCredentials, secret: str) -> None:
        sid = str(payment.session_id)
        uri = f"{self.cfg.APP_BASE_URL}/linkly/notify/{payment.id}/{{{{sessionid}}}}/{{{{type}}}}"
        args: dict[str, Any] = dict(
            credentials=creds,
            session_id=sid,
            txn_ref=payment.txn_ref,
            amount_cents=payment.amount_cents,
            currency=payment.currency,
            notification_uri=uri,
            notification_authorization=f"Bearer {secret}",
            operator_id=payment.requested_by or 0,
            operator_name=payment.context.get("operator")
            or ("Bitrix24 workflow" if payment.source == "robot" else "Bitrix24"),
        )
        try:
            if payment.kind == "refund":
                submitted = self.linkly.refund(rfn=str(payment.context["rfn"]), **args)
            else:
                submitted = self.linkly.purchase(**args)
        except InvalidRequest as exc:  # 400: Linkly says it was not performed
            reason = f"Linkly did not take the request: {exc} (not charged)"
            self._end(payment, Event.REJECTED, reason, "send", sid)
            return
        except (OutcomeUnknown, SessionNotFound) as exc:
            # A 404 on the POST may come from a proxy after Linkly took it: the GET decides.
            self._unknown_after_send(payment, sid, exc)
            return
        if submitted.result is not None:
            self._finalize(payment, submitted.result, "send", sid)
            return
        move(
            self.session,
            payment.id,
            Event.ACCEPTED,
            acting_on=sid,
            next_check_at=self._later(self.cfg.PAYMENT_EVENT_TIMEOUT_SECONDS),
        )
        self.session.commit()

    def _unknown_after_send(self, payment: Payment, sid: str, exc: LinklyError) -> None:
        journal(
            self.session,
            "linkly.unknown",
            portal=payment.portal_id,
            subject=payment.id,
            reason=exc.reason,
            status=exc.status,
        )
        move(self.session, payment.id, Event.LOST, acting_on=sid, next_check_at=states.now())
        self.session.commit()
        self.session.refresh(payment)

    def recover(self, payment: Payment) -> str:
        """Ask Linkly for the outcome of the payment's session (the recovery GET).

        Only a 404 older than the grace period ends the payment as never received; a 401 or a
        404 on the POST is never a reason to send again.
        """
        if payment.is_final or payment.session_id is None or payment.sent_at is None:
            return payment.state
        sid = payment.session_id
        try:
            found = self.linkly.transaction_status(
                credentials=self.credentials(payment), session_id=sid
            )
        except (OutcomeUnknown, LinklyError) as exc:
            journal(
                self.session,
                "linkly.recovery_failed",
                portal=payment.portal_id,
                subject=payment.id,
                reason=getattr(exc, "reason", type(exc).__name__),
            )
            self._check_later(payment)
            return payment.state
        if found.state is RecoveryState.FINAL and found.result is not None:
            self._finalize(payment, found.result, "recovery", sid)
        elif found.state is RecoveryState.IN_PROGRESS:
            move(self.session, payment.id, Event.SEEN, acting_on=sid)
            self._check_later(payment)
        elif states.now() - states.aware(payment.sent_at) >= timedelta(
            seconds=self.cfg.PAYMENT_NOT_FOUND_GRACE_SECONDS
        ):
            reason = "not received by Linkly (not charged)"
            self._end(payment, Event.NOT_RECEIVED, reason, "recovery", sid)
        else:
            self._check_later(payment)
        return payment.state

    def cancel(self, payment: Payment) -> bool:
        """Cancel: drop a queued payment, or press cancel when the PIN pad allows it."""
        if payment.state == PaymentState.QUEUED:
            reason = "cancelled before it reached the terminal (not charged)"
            if self._end(payment, Event.CANCEL_QUEUED, reason, "cancel"):
                return True
            # A runner took it meanwhile: it may be on the PIN pad now (refresh happened).
        display = payment.display or {}
        if payment.state != PaymentState.IN_PROGRESS or not display.get("cancel"):
            return False
        self.linkly.send_key(
            credentials=self.credentials(payment),
            session_id=_sent_session(payment),
            key=Key.CANCEL_OR_OK,
        )
        journal(
            self.session,
            "linkly.sendkey",
            portal=payment.portal_id,
            subject=payment.id,
            key="cancel",
        )
        self.session.commit()
        return True

    def press(self, payment: Payment, key: Key, data: str = "") -> None:
        """Answer the PIN pad's prompt (Yes / No / OK, with data when it asks for it)."""
        self.linkly.send_key(
            credentials=self.credentials(payment),
            session_id=_sent_session(payment),
            key=key,
            data=data,
        )
        journal(
            self.session,
            "linkly.sendkey",
            portal=payment.portal_id,
            subject=payment.id,
            key=key.name,
        )
        self.session.commit()

    def _check_later(self, payment: Payment) -> None:
        past = self._past_deadline(payment)
        interval = self.cfg.PAYMENT_RECOVERY_INTERVAL_SECONDS * (6 if past else 1)
        payment.next_check_at = self._later(interval)
        self.session.commit()

    def _finalize(self, payment: Payment, result: TransactionResult, source: str, sid: str) -> None:
        if (
            states.finalize(self.session, payment, result, source, sid)
            or payment.report_state == "pending"
        ):
            self._after_final(payment)

    def _past_deadline(self, payment: Payment) -> bool:
        deadline = states.aware(payment.deadline_at)
        return deadline is not None and states.now() >= deadline

    def _expire(self, payment: Payment) -> None:
        self._end(payment, Event.EXPIRED, EXPIRED_REASON, "send")  # a claimed one frees its PIN pad

    def _end(
        self, payment: Payment, event: Event, reason: str, source: str, sid: str | None = None
    ) -> bool:
        """End the payment without Linkly's result; if it did, start what follows."""
        ended = states.end(self.session, payment, event, reason, source=source, session_id=sid)
        if ended:
            self._after_final(payment)
        return ended

    def _after_final(self, payment: Payment) -> None:
        after_final(self.jobs, payment.terminal_id, payment.portal_id)

    @staticmethod
    def _later(seconds: float) -> datetime:
        return states.now() + timedelta(seconds=seconds)


def _sent_session(payment: Payment) -> str:
    """The session id a key press goes to: minted before the send, so always there."""
    if payment.session_id is None:
        raise ValueError(f"payment {payment.id} has no session id")
    return payment.session_id
