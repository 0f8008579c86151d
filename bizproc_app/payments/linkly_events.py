"""Linkly's events for a payment: display lines, receipts and the final transaction result.

Display and receipt events are most of the traffic (several per payment), so they are applied
with one journal insert and one conditional update, built once as Core statements on the tables
(no ORM load, no statement building per request); the final transaction event goes through
`states.finalize`.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Insert, Select, Update, and_, bindparam, case, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session

from bizproc_app.linkly import DisplayEvent, Notification, ReceiptEvent, TransactionResult
from bizproc_app.models import FINAL_STATES, JournalEntry, Payment
from bizproc_app.payments import states
from bizproc_app.payments.transitions import TABLE, Event, condition

PAYMENTS = Payment.core_table()
JOURNAL = JournalEntry.core_table()
# What a notification needs of its payment: to authenticate it and to apply a screen.
EVENT_COLUMNS = ("id", "portal_id", "terminal_id", "notify_hash", "session_id", "state", "display")


@cache
def _row_query() -> Select[Any]:
    c = PAYMENTS.c
    return select(*(c[name] for name in EVENT_COLUMNS)).where(c.id == bindparam("pid"))


@cache
def _journal_insert() -> Insert:
    return insert(JOURNAL)


@cache
def _show_update() -> Update:
    c = PAYMENTS.c
    return (
        update(PAYMENTS)
        .where(c.id == bindparam("pid"), c.state.not_in(FINAL_STATES))
        .values(
            display=bindparam("display", type_=c.display.type),
            # The table's `seen` row, on the session the event is about.
            state=case(
                (condition(Event.SEEN, acting_on=bindparam("sid")), TABLE[Event.SEEN].target),
                else_=c.state,
            ),
            last_event_at=bindparam("at", type_=c.last_event_at.type),
            updated_at=bindparam("at", type_=c.updated_at.type),
        )
    )


@cache
def _receipt_update(column: str, touch: bool) -> Update:
    c = PAYMENTS.c
    keep = and_(c.state.in_(FINAL_STATES), c[column] != "")
    values: dict[str, Any] = {column: case((keep, c[column]), else_=bindparam("text"))}
    if touch:
        values["last_event_at"] = bindparam("at", type_=c.last_event_at.type)
    return update(PAYMENTS).where(c.id == bindparam("pid")).values(**values)


def event_row(session: Session, payment_id: str) -> Row[Any] | None:
    """The payment's columns a notification needs, or None."""
    return session.execute(_row_query(), {"pid": payment_id}).first()


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


def apply(session: Session, row: Row[Any], note: Notification) -> bool:
    """Apply one authenticated event; True when it finalized the payment (report it)."""
    _journal(session, row, "linkly.event", type=note.type, session_id=note.session_id)
    if _plain(note.session_id) != _plain(row.session_id or ""):
        _journal(
            session,
            row,
            "linkly.event_ignored",
            reason="session of an earlier attempt",
            session_id=note.session_id,
        )
        session.commit()
        return False
    response = note.response
    if isinstance(response, TransactionResult):
        session.commit()
        payment = session.get(Payment, row.id)
        assert payment is not None
        return states.finalize(session, payment, response, "event", row.session_id)
    if isinstance(response, DisplayEvent) and row.state not in FINAL_STATES:
        _show(session, row, display_state(response))
    elif isinstance(response, ReceiptEvent):
        _store_receipt(session, row, response)
    session.commit()
    return False


def _plain(session_id: str) -> str:
    return session_id.replace("-", "").lower()


def _journal(session: Session, row: Row[Any], kind: str, **detail: object) -> None:
    session.execute(
        _journal_insert(),
        {
            "portal_id": row.portal_id,
            "kind": kind,
            "subject": row.id,
            "detail": detail,
            "created_at": states.now(),
        },
    )


def _show(session: Session, row: Row[Any], screen: dict[str, object]) -> None:
    """The PIN pad's prompt, with every prompt so far for the CLI and the UI; never once final."""
    history = list((row.display or {}).get("history", []))
    if screen["lines"] and (not history or history[-1] != screen["lines"]):
        history = [*history, screen["lines"]][-20:]
    values = {
        "pid": row.id,
        "sid": row.session_id,
        "display": {**screen, "history": history},
        "at": states.now(),
    }
    session.execute(_show_update(), values)


def _store_receipt(session: Session, row: Row[Any], receipt: ReceiptEvent) -> None:
    """Keep the receipt; once final, a late copy never replaces the one already kept."""
    text = "\n".join(line.rstrip() for line in receipt.lines).strip("\n")
    column = "merchant_receipt" if receipt.type.upper() == "M" else "receipt"
    touch = row.state not in FINAL_STATES
    values: dict[str, Any] = {"pid": row.id, "text": text}
    if touch:
        values["at"] = states.now()
    session.execute(_receipt_update(column, touch), values)
