"""The way out of "unknown": payments Linkly never settled, given up by the sweep and then
decided by an admin from the PIN pad's receipts (settings page or `flask pos resolve`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bizproc_app.models import Payment, PaymentState, Terminal
from bizproc_app.payments import states
from bizproc_app.payments.jobs import Jobs
from bizproc_app.payments.transitions import Event, move
from bizproc_app.portals.access import journal

DECISIONS = {"approved": Event.RESOLVED_APPROVED, "declined": Event.RESOLVED_DECLINED}


class ResolveRefused(Exception):
    """The decision cannot be recorded; nothing changed."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def give_up(session: Session, payment: Payment) -> bool:
    """Past the horizon: stop asking Linkly, flag it for people, tell them once (report)."""
    flagged = session.execute(
        update(Payment)
        .where(
            Payment.id == payment.id,
            Payment.state == PaymentState.UNKNOWN,
            Payment.attention_at.is_(None),
        )
        .values(attention_at=states.now(), next_check_at=None, report_state="pending")
        .execution_options(synchronize_session=False)
    ).rowcount
    if flagged:
        journal(session, "payment.gave_up", portal=payment.portal_id, subject=payment.id)
    session.commit()
    return bool(flagged)


def needs_attention(session: Session, portal_id: int) -> list[Payment]:
    """The portal's payments waiting for a person's decision, oldest first."""
    return list(
        session.scalars(
            select(Payment)
            .where(
                Payment.portal_id == portal_id,
                Payment.state == PaymentState.UNKNOWN,
                Payment.attention_at.is_not(None),
            )
            .order_by(Payment.created_at)
        )
    )


def resolve(
    session: Session,
    jobs: Jobs,
    payment: Payment,
    *,
    decision: str,
    reason: str,
    by: str,
) -> Payment:
    """Record an admin's decision on an unknown payment; release its PIN pad; report it.

    Refused unless the payment is still unknown (Linkly may have settled it meanwhile).
    """
    event = DECISIONS.get(decision)
    if event is None:
        raise ResolveRefused("as", "Decide 'approved' or 'declined'.")
    reason = reason.strip()
    if not reason:
        raise ResolveRefused("reason", "Say why (what the PIN pad's receipt shows).")
    resolution: dict[str, Any] = {
        "as": decision,
        "reason": reason[:500],
        "by": by,
        "at": states.now().isoformat(),
    }
    applied = move(
        session,
        payment.id,
        event,
        finished_at=states.now(),
        next_check_at=None,
        report_state="pending",
        error="" if decision == "approved" else f"declined by {by}: {reason[:200]}",
        result={"resolved": resolution},
        context={**(payment.context or {}), "resolution": resolution},
    )
    if not applied:
        session.rollback()
        session.refresh(payment)
        raise ResolveRefused("payment", f"The payment is {payment.state} now: nothing to decide.")
    states.release_terminal(session, payment.terminal_id, payment.id)
    journal(session, "payment.resolved", portal=payment.portal_id, subject=payment.id,
            decision=decision, reason=reason[:500], by=by)  # fmt: skip
    session.commit()
    session.refresh(payment)
    jobs.send_next(payment.terminal_id)
    jobs.reports(payment.portal_id)
    return payment


def release_terminal(session: Session, jobs: Jobs, payment: Payment, *, by: str) -> Terminal:
    """Free the PIN pad a given-up payment still holds (the payment stays to be decided)."""
    terminal = session.get(Terminal, payment.terminal_id)
    if terminal is None or terminal.active_payment_id != payment.id:
        raise ResolveRefused("payment", "This payment does not hold its terminal.")
    if payment.state != PaymentState.UNKNOWN or payment.attention_at is None:
        raise ResolveRefused("payment", "Only a payment the app gave up on can be released.")
    states.release_terminal(session, terminal.id, payment.id)
    journal(session, "terminal.released", portal=payment.portal_id, subject=str(terminal.id),
            payment=payment.id, by=by)  # fmt: skip
    session.commit()
    session.refresh(terminal)
    jobs.send_next(terminal.id)
    return terminal
