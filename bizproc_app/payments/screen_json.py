"""How payments and invoices look to the clerk's screen (the JSON of docs/ui-api.md)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bizproc_app.linkly import format_cents
from bizproc_app.models import Payment, Terminal
from bizproc_app.models import PaymentState as S
from bizproc_app.payments import ledger, states

RUNNING = (S.QUEUED, S.SENDING, S.IN_PROGRESS)


def amount(cents: int | None) -> str | None:
    """Cents as "10.00"."""
    return None if cents is None else format_cents(cents)


def queue_position(session: Session, payment: Payment) -> int | None:
    """How many payments are ahead of a queued one on its terminal."""
    if payment.state != S.QUEUED:
        return None
    ahead = session.scalar(
        select(func.count()).where(
            Payment.terminal_id == payment.terminal_id,
            Payment.state == S.QUEUED,
            Payment.created_at < payment.created_at,
        )
    )
    terminal = session.get(Terminal, payment.terminal_id)
    busy = terminal is not None and terminal.active_payment_id not in (None, payment.id)
    return int(ahead or 0) + (1 if busy else 0)


# What the clerk should know while the PIN pad shows a prompt (the screen shows the display
# itself, so the line says what is going on rather than repeating the display's text).
PROMPTS = (
    (("PRESENT CARD", "INSERT", "SWIPE", "TAP"), "Ask the customer to present the card"),
    (("SELECT ACCOUNT", "CHQ SAV CR"), "The customer is choosing the account on the terminal"),
    (("ENTER PIN", "KEY PIN"), "The customer is entering the PIN on the terminal"),
    (("PROCESSING", "PLEASE WAIT"), "Waiting for the bank's answer"),
    (("SIGNATURE",), "Check the customer's signature, then answer on this screen"),
)


def prompt(lines: list[str]) -> str:
    """The line for a payment in progress, from the PIN pad's display."""
    text = " ".join(str(line).strip() for line in lines if line and str(line).strip()).upper()
    for needles, line in PROMPTS:
        if any(n in text for n in needles):
            return line
    return "Follow the prompts on the terminal"


def message(payment: Payment, position: int | None) -> str:
    """One line saying where the payment stands and, if needed, what to do."""
    result = payment.result or {}
    lines = (payment.display or {}).get("lines") or []
    if payment.state == S.QUEUED:
        return (
            f"Waiting for the terminal ({position} ahead)"
            if position
            else "Sending to the terminal"
        )
    if payment.state == S.SENDING:
        return "Sending to the terminal"
    if payment.state == S.IN_PROGRESS:
        return prompt(lines)
    if payment.state == S.APPROVED:
        return "Approved"
    if payment.state == S.DECLINED:
        return f"Declined: {result.get('response_text') or 'by the bank'}"
    if payment.state == S.CANCELLED:
        return "Cancelled: nothing was charged"
    if payment.state == S.FAILED:
        return f"Failed, nothing was charged: {payment.error}"
    return (
        "Unknown: we are checking with Linkly. Do not charge the card again; check the PIN pad "
        "or its last receipt. This screen updates when the result is known."
    )


def refundable(session: Session, payment: Payment) -> str | None:
    """What can still be refunded of an approved purchase."""
    if payment.kind != "purchase" or payment.state != S.APPROVED:
        return None
    return amount(states.refundable_cents(session, payment))


def payment_view(session: Session, payment: Payment) -> dict[str, Any]:
    """The Payment object of the API."""
    terminal = session.get(Terminal, payment.terminal_id)
    result = payment.result or {}
    display = payment.display or None
    position = queue_position(session, payment)
    created = states.aware(payment.created_at)
    end = states.aware(payment.finished_at) or states.now()
    return {
        "id": payment.id,
        "kind": payment.kind,
        "state": payment.state,
        "amount": amount(payment.amount_cents),
        "currency": payment.currency,
        "terminal": {"id": terminal.id, "name": terminal.name} if terminal else None,
        "target": {"kind": "invoice", "id": payment.invoice_id}
        if payment.invoice_id
        else {"kind": "order_payment", "id": payment.order_payment_id}
        if payment.order_payment_id
        else {"kind": "deal", "id": payment.deal_id}
        if payment.deal_id
        else None,
        "created_at": created.isoformat() if created else None,
        "elapsed_seconds": int((end - created).total_seconds()) if created else 0,
        "queue_position": position,
        "display": {k: display.get(k) for k in ("lines", "cancel", "yes", "no", "ok", "input")}
        if display and payment.state in RUNNING
        else None,
        "result": {
            "response_code": result.get("response_code"),
            "response_text": result.get("response_text"),
            "card_type": result.get("card_type"),
            "account_type": result.get("account"),
            "masked_pan": result.get("pan"),
            "auth_code": result.get("auth_code"),
            "rrn": result.get("rrn"),
            "ref": result.get("ref"),
        }
        if result
        else None,
        "receipt": payment.receipt or "",
        "error": payment.error or "",
        "can_cancel": payment.state == S.QUEUED
        or (payment.state == S.IN_PROGRESS and bool((display or {}).get("cancel"))),
        "refundable": refundable(session, payment),
        "message": message(payment, position),
    }


def invoice_status(
    session: Session, latest: Payment | None, paid_in_crm: bool, due_cents: int
) -> str:
    """unpaid, in_progress, partly_paid, paid, partly_refunded, refunded or unknown."""
    if latest is None or latest.state in (S.DECLINED, S.CANCELLED, S.FAILED):
        return "paid" if paid_in_crm else "unpaid"
    if latest.state in RUNNING:
        return "in_progress"
    if latest.state == S.UNKNOWN:
        return "unknown"
    left = states.refundable_cents(session, latest)
    if left <= 0:
        return "refunded"
    if left < latest.amount_cents:
        return "partly_refunded"
    return "partly_paid" if due_cents > 0 else "paid"


def due_cents(session: Session, latest: Payment | None) -> int:
    """What is still due on the document of the latest purchase (0 when paid or unknown)."""
    due = ledger.due_cents(session, latest) if latest is not None else None
    return max(0, due or 0)


def document(
    session: Session,
    portal_id: int,
    deal: dict[str, Any] | None,
    invoices: list[dict[str, Any]],
    orders: list[dict[str, Any]],
) -> dict[str, Any]:
    """A card's invoices and order payments with our latest payment of each, plus the history."""
    ours = session.scalars(
        select(Payment)
        .where(Payment.portal_id == portal_id)
        .where(
            Payment.invoice_id.in_([int(i["id"]) for i in invoices] or [0])
            | Payment.order_payment_id.in_([int(o["id"]) for o in orders] or [0])
            | (Payment.deal_id == (int(deal["id"]) if deal else 0))
        )
        .order_by(Payment.created_at.desc())
    ).all()

    def latest(**match: int) -> Payment | None:
        return next(
            (
                p
                for p in ours
                if p.kind == "purchase" and all(getattr(p, k) == v for k, v in match.items())
            ),
            None,
        )

    def row(kind: str, item: dict[str, Any], paid: bool) -> dict[str, Any]:
        found = latest(**{kind: int(item["id"])})
        view = payment_view(session, found) if found else None
        due = due_cents(session, found)  # one look at the document's payments
        return {
            "id": int(item["id"]),
            "title": item["title"],
            "amount": item["amount"],
            "currency": item["currency"],
            "status": invoice_status(session, found, paid, due),
            "due": amount(due) if found else None,
            "payment": view,
            "refundable": view["refundable"] if view else None,
        }

    return {
        "deal": deal,
        "invoices": [row("invoice_id", i, i["paid"]) for i in invoices],
        "order_payments": [row("order_payment_id", o, o["paid"]) for o in orders],
        "history": [payment_view(session, p) for p in ours],
    }
