"""Linkly's events for a payment: display lines, receipts and the final transaction result."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bizproc_app.linkly import DisplayEvent, Notification, ReceiptEvent, TransactionResult
from bizproc_app.models import Payment
from bizproc_app.payments import states
from bizproc_app.portals import journal


def display_state(event: DisplayEvent) -> dict[str, object]:
    """What the clerk's screen needs from a display event."""
    return {
        "lines": [line for line in event.lines if line],
        "cancel": event.cancel_key,
        "yes": event.accept_yes_key,
        "no": event.decline_no_key,
        "ok": event.ok_key,
        "authorise": event.authorise_key,
        "input": event.input_type or "0",
        "graphic": event.graphic_code or "",
        "at": states.now().isoformat(),
    }


def apply(session: Session, payment: Payment, note: Notification) -> bool:
    """Apply one authenticated event; True when it finalized the payment (report it)."""
    journal(
        session,
        "linkly.event",
        portal=payment.portal_id,
        subject=payment.id,
        type=note.type,
        session_id=note.session_id,
    )
    if (
        note.session_id.replace("-", "").lower()
        != (payment.session_id or "").replace("-", "").lower()
    ):
        journal(
            session,
            "linkly.event_ignored",
            portal=payment.portal_id,
            subject=payment.id,
            reason="session of an earlier attempt",
            session_id=note.session_id,
        )
        session.commit()
        return False
    response = note.response
    if isinstance(response, TransactionResult):
        session.commit()
        return states.finalize(session, payment, response, source="event")
    if payment.is_final:  # a late display or receipt changes nothing of a final payment
        if isinstance(response, ReceiptEvent) and not _receipt_of(payment, response):
            _store_receipt(payment, response)
        session.commit()
        return False
    if isinstance(response, DisplayEvent):
        screen = display_state(response)
        history = list((payment.display or {}).get("history", []))
        if screen["lines"] and (not history or history[-1] != screen["lines"]):
            history = [*history, screen["lines"]][-20:]  # every prompt, for the CLI and the UI
        payment.display = {**screen, "history": history}
        states.transition(session, payment.id, ("sending", "unknown"), state="in_progress")
    elif isinstance(response, ReceiptEvent):
        _store_receipt(payment, response)
    payment.last_event_at = states.now()
    session.commit()
    return False


def _receipt_of(payment: Payment, receipt: ReceiptEvent) -> str:
    return payment.merchant_receipt if receipt.type.upper() == "M" else payment.receipt


def _store_receipt(payment: Payment, receipt: ReceiptEvent) -> None:
    text = "\n".join(line.rstrip() for line in receipt.lines).strip("\n")
    if receipt.type.upper() == "M":
        payment.merchant_receipt = text
    else:
        payment.receipt = text
