"""State changes of a payment, each a conditional UPDATE so concurrent actors cannot clash.

queued -> sending -> in_progress -> approved | declined | cancelled | failed, with unknown while
an outcome is unresolved. A final state is never overwritten.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bizproc_app.linkly import Outcome, TransactionResult
from bizproc_app.models import ACTIVE_STATES, FINAL_STATES, Payment, Terminal
from bizproc_app.portals import journal

OUTCOME_STATES = {
    Outcome.APPROVED: "approved",
    Outcome.DECLINED: "declined",
    Outcome.CANCELLED: "cancelled",
    Outcome.FAILED: "failed",
}


def now() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


def aware(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def transition(
    session: Session, payment_id: str, from_states: tuple[str, ...], **values: Any
) -> bool:
    """Apply values only if the payment is still in one of from_states; True if it was."""
    stmt = (
        update(Payment)
        .where(Payment.id == payment_id, Payment.state.in_(from_states))
        .values(updated_at=now(), **values)
        .execution_options(synchronize_session=False)
    )
    return session.execute(stmt).rowcount == 1


def claim_terminal(session: Session, terminal_id: int, payment_id: str) -> bool:
    """Take the PIN pad for one payment; False when another payment holds it."""
    stmt = (
        update(Terminal)
        .where(
            Terminal.id == terminal_id,
            Terminal.active.is_(True),
            (Terminal.active_payment_id.is_(None)) | (Terminal.active_payment_id == payment_id),
        )
        .values(active_payment_id=payment_id)
        .execution_options(synchronize_session=False)
    )
    return session.execute(stmt).rowcount == 1


def release_terminal(session: Session, terminal_id: int, payment_id: str) -> None:
    """Free the PIN pad if this payment holds it."""
    session.execute(
        update(Terminal)
        .where(Terminal.id == terminal_id, Terminal.active_payment_id == payment_id)
        .values(active_payment_id=None)
        .execution_options(synchronize_session=False)
    )


def result_values(result: TransactionResult) -> dict[str, Any]:
    """The parts of a final response worth keeping (no raw payload: it may hold card data)."""
    return {
        "success": result.success,
        "outcome": result.outcome.value,
        "response_code": result.response_code,
        "response_text": result.response_text,
        "txn_ref": result.txn_ref,
        "amount_cents": result.amount_cents,
        "auth_code": result.auth_code,
        "rrn": result.rrn,
        "stan": result.stan,
        "card_type": result.card_type,
        "account": result.account,
        "pan": result.pan,
        "rfn": result.rfn,
        "date": result.date,
    }


def finalize(session: Session, payment: Payment, result: TransactionResult, source: str) -> bool:
    """Record the final result once; a late or contradicting result is journaled, never applied."""
    state = OUTCOME_STATES[result.outcome]
    if payment.txn_ref and result.txn_ref and result.txn_ref != payment.txn_ref:
        journal(
            session,
            "payment.conflict",
            portal=payment.portal_id,
            subject=payment.id,
            source=source,
            reason="txn_ref mismatch",
            got=result.txn_ref,
            expected=payment.txn_ref,
        )
        session.commit()
        return False
    applied = transition(
        session,
        payment.id,
        ACTIVE_STATES,
        state=state,
        result=result_values(result),
        rfn=result.rfn,
        finished_at=now(),
        next_check_at=None,
        report_state="pending",
        invoice_lock=payment.invoice_lock if state == "approved" else None,
        error="" if state == "approved" else result.response_text,
    )
    if applied:
        release_terminal(session, payment.terminal_id, payment.id)
        journal(
            session,
            "payment.final",
            portal=payment.portal_id,
            subject=payment.id,
            state=state,
            source=source,
            response_code=result.response_code,
        )
    else:
        session.refresh(payment)
        if payment.state != state:
            # Never dropped: a contradicting result goes to the journal and to people.
            journal(
                session,
                "payment.conflict",
                portal=payment.portal_id,
                subject=payment.id,
                source=source,
                recorded=payment.state,
                received=state,
                response_code=result.response_code,
            )
            payment.context = {**payment.context, "conflict": {"received": state, "source": source}}
            payment.report_state = "pending"
    session.commit()
    session.refresh(payment)
    return applied


def fail(session: Session, payment: Payment, reason: str, *, source: str) -> bool:
    """End a payment that was not charged (refused, never received, terminal busy)."""
    applied = transition(
        session,
        payment.id,
        ACTIVE_STATES,
        state="failed",
        error=reason,
        finished_at=now(),
        next_check_at=None,
        report_state="pending",
        invoice_lock=None,
    )
    if applied:
        release_terminal(session, payment.terminal_id, payment.id)
        journal(
            session,
            "payment.final",
            portal=payment.portal_id,
            subject=payment.id,
            state="failed",
            source=source,
            reason=reason,
        )
    session.commit()
    session.refresh(payment)
    return applied


def refundable_cents(session: Session, original: Payment) -> int:
    """What is left to refund: the original less approved and still-open refunds."""
    taken = session.scalar(
        select(func.coalesce(func.sum(Payment.amount_cents), 0)).where(
            Payment.original_id == original.id,
            Payment.kind == "refund",
            Payment.state.in_(("approved", *ACTIVE_STATES)),
        )
    )
    return original.amount_cents - int(taken or 0)


def is_final(state: str) -> bool:
    """True for approved, declined, cancelled and failed."""
    return state in FINAL_STATES
