"""The asynchronous pipeline: send one payment per terminal, take events, recover the lost."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bizproc_app.config import Config
from bizproc_app.crypto import SecretBox
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
    new_session_id,
    new_txn_ref,
)
from bizproc_app.models import Payment, Terminal
from bizproc_app.payments import states
from bizproc_app.portals import journal

log = logging.getLogger(__name__)


class Jobs(Protocol):
    """What the pipeline asks the queue to do next."""

    def send_next(self, terminal_id: int) -> None: ...
    def report(self, portal_id: int) -> None: ...


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
        """Start the oldest queued payment of a free terminal; return its id."""
        payment = self.session.scalar(
            select(Payment)
            .where(Payment.terminal_id == terminal_id, Payment.state == "queued")
            .order_by(Payment.created_at, Payment.id)
            .limit(1)
        )
        if payment is None:
            return None
        # Take the payment first, then the PIN pad, in one transaction: a second runner that
        # picked the same payment loses the first step and must not touch the claim (releasing
        # it would free the PIN pad under a payment in flight).
        if not states.transition(self.session, payment.id, ("queued",), state="sending"):
            self.session.rollback()
            return None
        if not states.claim_terminal(self.session, terminal_id, payment.id):
            self.session.rollback()
            return None
        self.session.commit()
        self.session.refresh(payment)
        self.send(payment)
        return payment.id

    def send(self, payment: Payment) -> None:
        """Send a claimed payment; once it may have left, only the recovery GET decides."""
        if payment.state != "sending":
            return
        if payment.sent_at is not None:
            self.recover(payment)
            return
        creds = self.credentials(payment)
        if payment.session_id is None:
            minted = self.session.execute(
                update(Payment)
                .where(Payment.id == payment.id, Payment.session_id.is_(None))
                .values(
                    session_id=new_session_id(), txn_ref=new_txn_ref(), attempt=Payment.attempt + 1
                )
                .execution_options(synchronize_session=False)
            ).rowcount
            self.session.commit()
            self.session.refresh(payment)
            if not minted:
                return
        try:
            self.linkly.token(credentials=creds)  # nothing leaves if this fails
        except SecretRejected:
            states.fail(
                self.session,
                payment,
                "Linkly refused the terminal's secret: re-pair it",
                source="send",
            )
            self._after_final(payment)
            return
        secret = secrets.token_urlsafe(32)
        # Whoever sets sent_at sends; a second runner of this job stops here.
        if not self.session.execute(
            update(Payment)
            .where(Payment.id == payment.id, Payment.state == "sending", Payment.sent_at.is_(None))
            .values(sent_at=states.now(), notify_hash=notify_hash(secret))
            .execution_options(synchronize_session=False)
        ).rowcount:
            self.session.rollback()
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
        uri = f"{self.cfg.APP_BASE_URL}/linkly/notify/{payment.id}/{{{{sessionid}}}}/{{{{type}}}}"
        args = dict(
            credentials=creds,
            session_id=payment.session_id,
            txn_ref=payment.txn_ref,
            amount_cents=payment.amount_cents,
            currency=payment.currency,
            notification_uri=uri,
            notification_authorization=f"Bearer {secret}",
        )
        try:
            if payment.kind == "refund":
                submitted = self.linkly.refund(rfn=str(payment.context["rfn"]), **args)
            else:
                submitted = self.linkly.purchase(**args)
        except (InvalidRequest, SessionNotFound) as exc:
            states.fail(
                self.session, payment, f"Linkly did not take the request: {exc}", source="send"
            )
            self._after_final(payment)
            return
        except OutcomeUnknown as exc:
            self._unknown_after_send(payment, exc)
            return
        if submitted.result is not None:
            states.finalize(self.session, payment, submitted.result, source="send")
            self._after_final(payment)
            return
        states.transition(
            self.session,
            payment.id,
            ("sending",),
            state="in_progress",
            next_check_at=self._later(self.cfg.PAYMENT_EVENT_TIMEOUT_SECONDS),
        )
        self.session.commit()

    def _unknown_after_send(self, payment: Payment, exc: OutcomeUnknown) -> None:
        journal(
            self.session,
            "linkly.unknown",
            portal=payment.portal_id,
            subject=payment.id,
            reason=exc.reason,
            status=exc.status,
        )
        states.transition(
            self.session,
            payment.id,
            ("sending", "in_progress"),
            state="unknown",
            next_check_at=states.now(),
        )
        self.session.commit()
        self.session.refresh(payment)
        if exc.reason == "unauthorized":
            # Linkly refused the token: ask at once; only a 404 allows sending again.
            self.recover(payment, resend_if_not_found=True)

    def recover(self, payment: Payment, *, resend_if_not_found: bool = False) -> str:
        """Ask Linkly for the outcome of the payment's session (the recovery GET)."""
        if payment.is_final or payment.session_id is None or payment.sent_at is None:
            return payment.state
        try:
            found = self.linkly.transaction_status(
                credentials=self.credentials(payment), session_id=payment.session_id
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
            states.finalize(self.session, payment, found.result, source="recovery")
            self._after_final(payment)
        elif found.state is RecoveryState.IN_PROGRESS:
            states.transition(self.session, payment.id, ("sending", "unknown"), state="in_progress")
            self._check_later(payment)
        elif resend_if_not_found:
            self._resend(payment)
        elif states.now() - states.aware(payment.sent_at) >= timedelta(
            seconds=self.cfg.PAYMENT_NOT_FOUND_GRACE_SECONDS
        ):
            states.fail(
                self.session, payment, "not received by Linkly (not charged)", source="recovery"
            )
            self._after_final(payment)
        else:
            self._check_later(payment)
        return payment.state

    def _resend(self, payment: Payment) -> None:
        """Linkly never received it: a new session id and TxnRef, then send again."""
        journal(
            self.session,
            "linkly.resend",
            portal=payment.portal_id,
            subject=payment.id,
            old_session_id=payment.session_id,
            old_txn_ref=payment.txn_ref,
        )
        if states.transition(
            self.session,
            payment.id,
            ("unknown",),
            state="sending",
            session_id=None,
            txn_ref=None,
            sent_at=None,
            notify_hash=None,
        ):
            self.session.commit()
            self.session.refresh(payment)
            self.send(payment)
        else:
            self.session.commit()

    def cancel(self, payment: Payment) -> bool:
        """Cancel: drop a queued payment, or press cancel when the PIN pad allows it."""
        if payment.state == "queued":
            if states.fail(
                self.session, payment, "cancelled before it reached the terminal", source="cancel"
            ):
                self._after_final(payment)
                return True
            return False
        display = payment.display or {}
        if payment.state != "in_progress" or not display.get("cancel"):
            return False
        self.linkly.send_key(
            credentials=self.credentials(payment),
            session_id=payment.session_id,
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
            credentials=self.credentials(payment), session_id=payment.session_id, key=key, data=data
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
        deadline = states.aware(payment.deadline_at)
        past = deadline is not None and states.now() >= deadline
        interval = self.cfg.PAYMENT_RECOVERY_INTERVAL_SECONDS * (6 if past else 1)
        payment.next_check_at = self._later(interval)
        self.session.commit()

    def _after_final(self, payment: Payment) -> None:
        self.jobs.send_next(payment.terminal_id)
        self.jobs.report(payment.portal_id)

    @staticmethod
    def _later(seconds: float):  # type: ignore[no-untyped-def]
        return states.now() + timedelta(seconds=seconds)
