"""Robot and activity calls: accept once per event_token, then report back to the workflow."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from activities import REFUND_VIA_POS, SEND_TO_POS
from bizproc_app.bitrix import AccessDenied, BitrixClient, WorkflowNotFound
from bizproc_app.models import HandlerCall, Portal
from bizproc_app.portals import journal
from bizproc_app.schemas import RefundViaPosProperties, SendToPosProperties

log = logging.getLogger(__name__)

NOT_ENABLED = "payments are not enabled yet"
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
) -> tuple[HandlerCall, bool]:
    """Store the call once; return it and whether it is new (a repeat changes nothing)."""
    call = HandlerCall(
        portal_id=portal.id,
        event_token=envelope["event_token"],
        workflow_id=envelope["workflow_id"],
        code=envelope["code"].lower(),
        document_id=envelope["document_id"],
        properties=envelope["properties"],
        state="invalid" if errors else "received",
        outcome={"status": "error", "error": describe(errors)} if errors else None,
    )
    session.add(call)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        existing = session.scalar(
            select(HandlerCall).where(
                HandlerCall.portal_id == portal.id,
                HandlerCall.event_token == envelope["event_token"],
            )
        )
        if existing is None:  # the unique violation was not ours: let it surface
            raise
        return existing, False
    journal(session, "bitrix.call_received", portal=portal, subject=str(call.id), code=call.code)
    session.commit()
    return call, True


def describe(errors: dict[str, Any] | None) -> str:
    """Turn field errors into one line a workflow log can show."""
    parts = []
    for field, messages in sorted((errors or {}).items()):
        text = " ".join(messages) if isinstance(messages, list) else str(messages)
        parts.append(f"{field}: {text}")
    return "; ".join(parts) or "invalid properties"


def report(session: Session, call: HandlerCall, client: BitrixClient) -> str:
    """Prove the call genuine, then send its outcome to the workflow; return the new state."""
    if call.state in ("reported", "forged"):
        return call.state
    portal = session.get(Portal, call.portal_id)
    try:
        # Bitrix24 refuses a forged event_token here, before anything else happens.
        client.call(
            "bizproc.activity.log",
            {"EVENT_TOKEN": call.event_token, "LOG_MESSAGE": "POS payments: request received"},
        )
    except AccessDenied:
        call.state = "forged"
        journal(session, "bitrix.call_forged", portal=portal, subject=str(call.id))
        session.commit()
        return call.state
    journal(
        session, "bitrix.write", portal=portal, subject=str(call.id), method="bizproc.activity.log"
    )
    outcome = call.outcome or {"status": "error", "error": NOT_ENABLED}
    values = {"status": outcome["status"], "approved": False, "error": outcome.get("error", "")}
    try:
        client.call(
            "bizproc.event.send",
            {
                "EVENT_TOKEN": call.event_token,
                "RETURN_VALUES": values,
                "LOG_MESSAGE": values["error"],
            },
        )
        sent = "bizproc.event.send"
    except WorkflowNotFound:
        sent = "workflow gone"
    call.state, call.outcome = "reported", values
    journal(
        session, "bitrix.write", portal=portal, subject=str(call.id), method=sent, values=values
    )
    session.commit()
    return call.state
