"""Linkly's notification endpoint: authenticate, apply the event, answer fast."""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from bizproc_app.extensions import db
from bizproc_app.linkly import LinklyError, parse_notification
from bizproc_app.models import payment_key
from bizproc_app.payments import linkly_events
from bizproc_app.payments.pipeline import authorization_matches
from bizproc_app.web.http import error, nul_at
from bizproc_app.wiring.services import payments

bp = Blueprint("linkly", __name__, url_prefix="/linkly")
log = logging.getLogger(__name__)


@bp.post("/notify/<payment_id>/<session_id>/<kind>")
def notify(payment_id: str, session_id: str, kind: str) -> ResponseReturnValue:
    """One display, receipt or transaction event for one payment."""
    key = payment_key(payment_id)
    row = linkly_events.event_row(db.session, key) if key else None
    # The same answer for an unknown payment and a wrong secret: nothing to probe.
    if row is None or not authorization_matches(
        row.notify_hash, request.headers.get("Authorization", "")
    ):
        return error(401, "not authorized")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return error(400, "body must be a JSON object")
    if (where := nul_at(body)) is not None:
        return error(400, f"{where}: NUL bytes are not allowed")
    try:
        note = parse_notification(body)
    except (LinklyError, ValueError) as exc:
        return error(400, f"not a Linkly notification: {exc}")
    payments().apply_event(row, note)
    return jsonify({"status": "ok"})
