"""A payment's endings and its PIN pad, on top of the transition table (`transitions`).

queued -> sending -> in_progress -> approved | declined | cancelled | failed, with unknown while
an outcome is unresolved. A final state is overwritten only by Linkly's approval (the money
was taken: the late truth wins) or never.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, overload

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bizproc_app.linkly import Outcome, TransactionResult
from bizproc_app.models import ACTIVE_STATES, FINAL_STATES, Payment, PaymentState, Terminal
from bizproc_app.payments import ledger
from bizproc_app.payments.transitions import OUTCOME_EVENTS, TABLE, Event, move, now
from bizproc_app.portals.access import journal

OUTCOME_STATES = {
    Outcome.APPROVED: PaymentState.APPROVED,
    Outcome.DECLINED: PaymentState.DECLINED,
    Outcome.CANCELLED: PaymentState.CANCELLED,
    Outcome.FAILED: PaymentState.FAILED,
}
# Report progress kept when a payment's outcome changes late: the workflow's one event and the
# people told; comments and the stage are written again for the new outcome.
KEPT_ON_REOPEN = ("event", "notify", "payment_added")

__all__ = ["now"]


@overload
def aware(value: datetime) -> datetime: ...
@overload
def aware(value: None) -> None: ...
@overload
def aware(value: datetime | None) -> datetime | None: ...
def aware(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def lock_key(payment: Payment) -> str | None:
    """The document lock a running purchase holds: one purchase of a document runs at a time.

    Released when the purchase ends, whatever the outcome; what is still due is then counted
    from the approved payments (`ledger`), so a paid invoice cannot be charged again.
    """
    if payment.kind != "purchase":
        return None
    if payment.invoice_id:
        return f"{payment.portal_id}:invoice:{payment.invoice_id}"
    if payment.order_payment_id:
        return f"{payment.portal_id}:order:{payment.order_payment_id}"
    if payment.deal_id and ledger.target_cents(payment) is not None:
        return f"{payment.portal_id}:deal:{payment.deal_id}"  # paying the deal's amount
    return None


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
    return bool(session.execute(stmt).rowcount == 1)


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
        # The host reference Linkly asks a POS to record against the sale (found from the
        # receipt), and the whole analysis data it came in.
        "ref": str(result.purchase_analysis_data.get("REF") or "") or None,
        "pad": {str(k): str(v) for k, v in result.purchase_analysis_data.items()},
        "date": result.date,
    }


def finalize(
    session: Session, payment: Payment, result: TransactionResult, source: str, session_id: str
) -> bool:
    """Record Linkly's final result for `session_id`; True when it changed the payment.

    A duplicate changes nothing; an approval of a payment we had ended otherwise wins (the
    money was taken); any other contradiction goes to the journal and to people.
    """
    state = OUTCOME_STATES[result.outcome]
    if payment.txn_ref and result.txn_ref and result.txn_ref != payment.txn_ref:
        _conflict(session, payment, source, state, "txn_ref mismatch", got=result.txn_ref)
        session.commit()
        return False
    values = _final_values(payment, result, state)
    applied = move(session, payment.id, OUTCOME_EVENTS[state], acting_on=session_id, **values)
    if applied:
        release_terminal(session, payment.terminal_id, payment.id)
        journal(session, "payment.final", portal=payment.portal_id, subject=payment.id,
                state=state.value, source=source, response_code=result.response_code)  # fmt: skip
    else:
        session.refresh(payment)
        if state is PaymentState.APPROVED and payment.state in TABLE[Event.LATE_APPROVAL].sources:
            applied = _late_approval(session, payment, values, source, session_id)
        elif payment.is_final and payment.state != state:
            _conflict(session, payment, source, state, "contradicts the recorded outcome")
        elif not payment.is_final:
            journal(session, "payment.transition_lost", portal=payment.portal_id,
                    subject=payment.id, event=state.value, state=payment.state, source=source,
                    reason="result of another session")  # fmt: skip
    session.commit()
    session.refresh(payment)
    return applied


def _final_values(
    payment: Payment, result: TransactionResult, state: PaymentState
) -> dict[str, Any]:
    approved = state is PaymentState.APPROVED
    values: dict[str, Any] = {
        "result": result_values(result),
        "rfn": result.rfn,
        "finished_at": now(),
        "next_check_at": None,
        "report_state": "pending",
        "invoice_lock": None,
        "error": "" if approved else result.response_text,
    }
    if approved and result.amount_cents and result.amount_cents != payment.amount_cents:
        # Linkly approved another amount than we asked: the books follow the money; people check.
        mismatch = {
            "received": "approved",
            "source": "amount",
            "asked_cents": payment.amount_cents,
            "approved_cents": result.amount_cents,
        }
        values["context"] = {**(payment.context or {}), "conflict": mismatch}
    return values


def _late_approval(
    session: Session, payment: Payment, values: dict[str, Any], source: str, session_id: str
) -> bool:
    """Linkly approved what we had ended otherwise: record the approval and tell everyone."""
    was = payment.state
    late: dict[str, Any] = {"was": str(was), "source": source, "error": payment.error}
    values = {**values, "report_done": _reopened(payment.report_done), "report_next_at": None}
    values["context"] = {
        **(payment.context or {}),
        **values.get("context", {}),
        "late_approval": late,
    }
    applied = move(session, payment.id, Event.LATE_APPROVAL, acting_on=session_id, **values)
    if applied:
        session.refresh(payment)
        due = ledger.due_cents(session, payment)
        if due is not None and due < 0:
            late["double"] = True  # the document was paid again meanwhile
            payment.context = {**payment.context, "late_approval": late}
        journal(session, "payment.late_approval", portal=payment.portal_id, subject=payment.id,
                was=str(was), source=source, paid_twice=bool(late.get("double")))  # fmt: skip
    return applied


def _reopened(done: dict[str, Any] | None) -> dict[str, Any]:
    return {k: v for k, v in (done or {}).items() if k in KEPT_ON_REOPEN}


def _conflict(
    session: Session,
    payment: Payment,
    source: str,
    received: PaymentState,
    reason: str,
    **detail: object,
) -> None:
    """Never dropped: a contradicting result goes to the journal and to people."""
    journal(session, "payment.conflict", portal=payment.portal_id, subject=payment.id,
            source=source, recorded=payment.state, received=received.value, reason=reason,
            **detail)  # fmt: skip
    if payment.is_final:
        conflict = {"received": received.value, "source": source}
        payment.context = {**(payment.context or {}), "conflict": conflict}
        payment.report_state = "pending"


def end(
    session: Session,
    payment: Payment,
    event: Event,
    reason: str,
    *,
    source: str,
    session_id: str | None = None,
) -> bool:
    """End a payment without Linkly's result (not charged, cancelled, rejected); commit."""
    applied = move(
        session,
        payment.id,
        event,
        acting_on=session_id,
        error=reason,
        finished_at=now(),
        next_check_at=None,
        report_state="pending",
        invoice_lock=None,
    )
    state = TABLE[event].target
    if applied:
        release_terminal(session, payment.terminal_id, payment.id)
        journal(session, "payment.final", portal=payment.portal_id, subject=payment.id,
                state=str(state), event=event.value, source=source, reason=reason)  # fmt: skip
    else:
        journal(session, "payment.transition_lost", portal=payment.portal_id, subject=payment.id,
                event=event.value, source=source)  # fmt: skip
    session.commit()
    session.refresh(payment)
    return applied


def refundable_cents(session: Session, original: Payment) -> int:
    """What is left to refund: the original less approved and still-open refunds."""
    return original.amount_cents - _refunded(
        session, original, (PaymentState.APPROVED, *ACTIVE_STATES)
    )


def _refunded(session: Session, original: Payment, states: tuple[PaymentState, ...]) -> int:
    taken = session.scalar(
        select(func.coalesce(func.sum(Payment.amount_cents), 0)).where(
            Payment.original_id == original.id,
            Payment.kind == "refund",
            Payment.state.in_(states),
        )
    )
    return int(taken or 0)


def is_final(state: str) -> bool:
    """True for approved, declined, cancelled and failed."""
    return state in FINAL_STATES
