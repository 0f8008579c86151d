"""Robot and activity calls: accept once per event_token, then report back to the workflow."""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from activities import REFUND_VIA_POS, SEND_TO_POS
from bizproc_app.bitrix import AccessDenied, BitrixClient, WorkflowNotFound
from bizproc_app.config import Config
from bizproc_app.models import HandlerCall, JournalEntry, Payment, Portal, utcnow
from bizproc_app.payments import starting
from bizproc_app.payments.crm_context import CallForged, ContextRead, document_ids
from bizproc_app.payments.robot_properties import RefundViaPosProperties, SendToPosProperties
from bizproc_app.payments.starting import CrmContext, PaymentRefused, PaymentRequest
from bizproc_app.portals.access import journal

log = logging.getLogger(__name__)

_PROPERTY_SCHEMAS = {
    code: schema
    for definition, schema in (
        (SEND_TO_POS, SendToPosProperties),
        (REFUND_VIA_POS, RefundViaPosProperties),
    )
    for code in (definition.robot_code, definition.activity_code)
}


def property_schema(code: str) -> type | None:
    """Return the properties schema of a robot or activity code, None when unknown."""
    return _PROPERTY_SCHEMAS.get(code.lower())


def accept(
    session: Session, portal: Portal, envelope: dict[str, Any], errors: dict[str, Any] | None
) -> tuple[int, bool]:
    """Store the call once; return its id and whether it is new (a repeat changes nothing).

    Two Core inserts in one transaction (the call and its journal line): this runs for every
    robot call, so it skips the ORM unit of work.
    """
    now = utcnow()
    try:
        call_id = session.execute(
            insert(HandlerCall.core_table()).returning(HandlerCall.core_table().c.id),
            {
                "portal_id": portal.id,
                "event_token": envelope["event_token"],
                "workflow_id": envelope["workflow_id"],
                "code": envelope["code"].lower(),
                "document_id": envelope["document_id"],
                "properties": envelope["properties"],
                "timeout_duration": max(0, int(envelope.get("timeout_duration") or 0)),
                "state": "invalid" if errors else "received",
                "outcome": {"status": "error", "error": describe(errors)} if errors else None,
                "created_at": now,
                "updated_at": now,
            },
        ).scalar_one()
    except IntegrityError:
        session.rollback()
        existing = session.scalar(
            select(HandlerCall.id).where(
                HandlerCall.portal_id == portal.id,
                HandlerCall.event_token == envelope["event_token"],
            )
        )
        if existing is None:  # the unique violation was not ours: let it surface
            raise
        return existing, False
    session.execute(
        insert(JournalEntry.core_table()),
        {
            "portal_id": portal.id,
            "kind": "bitrix.call_received",
            "subject": str(call_id),
            "detail": {"code": envelope["code"].lower()},
            "created_at": now,
        },
    )
    session.commit()
    return call_id, True


def describe(errors: dict[str, Any] | None) -> str:
    """Turn field errors into one line a workflow log can show."""
    parts = []
    for field, messages in sorted((errors or {}).items()):
        text = " ".join(messages) if isinstance(messages, list) else str(messages)
        parts.append(f"{field}: {text}")
    return "; ".join(parts) or "invalid properties"


REFUND_CODES = {REFUND_VIA_POS.robot_code, REFUND_VIA_POS.activity_code}


def pending(session: Session, portal_id: int, limit: int) -> list[HandlerCall]:
    """The portal's calls not yet processed, oldest first."""
    return list(
        session.scalars(
            select(HandlerCall)
            .where(
                HandlerCall.portal_id == portal_id, HandlerCall.state.in_(("received", "invalid"))
            )
            .order_by(HandlerCall.id)
            .limit(limit)
            .execution_options(populate_existing=True)
        )
    )


def context_read(call: HandlerCall) -> ContextRead:
    """What Bitrix24 must confirm and tell us before the call's payment may start."""
    deal_id, document_invoice = document_ids(call.document_id)
    refund = call.code in REFUND_CODES
    invoice_id = _int(call.properties.get("invoice_id")) or document_invoice
    return ContextRead(
        event_token=call.event_token,
        deal_id=deal_id,
        invoice_id=None if refund else invoice_id,
        order_payment_id=None if refund else _int(call.properties.get("order_payment_id")),
    )


def start(
    session: Session,
    cfg: Config,
    call: HandlerCall,
    client: BitrixClient,
    crm: CrmContext | Exception,
) -> Payment | None:
    """Start the call's payment from what Bitrix24 answered (or report why not).

    Raises a transient Bitrix24 error so the call is tried again; the call stays `received`.
    """
    if call.state in ("started", "reported", "forged"):
        return None
    if _started_elsewhere(session, call):  # a retried job: the payment was created before
        return None
    portal = session.get(Portal, call.portal_id)
    assert portal is not None
    if isinstance(crm, CallForged):
        _mark(session, call, "forged", None)
        journal(session, "bitrix.call_forged", portal=portal, subject=str(call.id))
        session.commit()
        return None
    if isinstance(crm, LookupError):
        report_error(session, call, client, str(crm))
        return None
    if isinstance(crm, Exception):
        raise crm
    if call.state == "invalid":
        report_error(session, call, client, str((call.outcome or {}).get("error", "invalid")))
        return None
    props = call.properties
    refund = call.code in REFUND_CODES
    deal_id, document_invoice = document_ids(call.document_id)
    amount = props.get("amount")
    request = PaymentRequest(
        portal=portal,
        kind="refund" if refund else "purchase",
        source="robot",
        user_id=_int(props.get("user")),
        terminal_ref=props.get("terminal") or None,
        amount=Decimal(str(amount)) if amount not in (None, "") else None,
        currency=props.get("currency") or None,
        invoice_id=_int(props.get("invoice_id")) or document_invoice,
        order_payment_id=_int(props.get("order_payment_id")),
        original_payment_id=props.get("payment_id") or None,
        handler_call_id=call.id,
        workflow_id=call.workflow_id,
        event_token=call.event_token,
        timeout_seconds=call.timeout_duration,
        received_at=call.created_at,
        crm=crm if not refund else CrmContext(deal_id=deal_id),
    )
    try:
        payment = starting.start(session, cfg, request)
    except PaymentRefused as exc:
        # A second run of this call (its portal's Redis lock lost) may have just created the
        # payment: it then holds the invoice, and this run must not tell the workflow "error".
        if not _started_elsewhere(session, call):
            report_error(session, call, client, f"{exc.field}: {exc.message}")
        return None
    _mark(session, call, "started", {"payment_id": payment.id})
    return payment


def _started_elsewhere(session: Session, call: HandlerCall) -> bool:
    """Mark the call started if a payment of it exists already (committed by another run)."""
    existing = session.scalar(select(Payment.id).where(Payment.handler_call_id == call.id))
    if existing is not None:
        _mark(session, call, "started", {"payment_id": existing})
    return existing is not None


def report_error(session: Session, call: HandlerCall, client: BitrixClient, message: str) -> None:
    """Tell the workflow its call ended in status=error (its one and only outcome)."""
    values = {"status": "error", "approved": "N", "error": message}
    portal = session.get(Portal, call.portal_id)
    try:
        client.call(
            "bizproc.event.send",
            {"EVENT_TOKEN": call.event_token, "RETURN_VALUES": values, "LOG_MESSAGE": message},
        )
        sent = "bizproc.event.send"
    except (WorkflowNotFound, AccessDenied):  # the token can no longer be used
        sent = "workflow gone"
    journal(
        session, "bitrix.write", portal=portal, subject=str(call.id), method=sent, values=values
    )
    _mark(session, call, "reported", values)


def _mark(session: Session, call: HandlerCall, state: str, outcome: dict[str, Any] | None) -> None:
    call.state, call.outcome = state, outcome
    session.commit()


def _int(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None
