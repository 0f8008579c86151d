"""Linkly's notification endpoint: authenticate, apply the event, answer fast."""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from bizproc_app.extensions import db, redis_conn
from bizproc_app.linkly import LinklyError, TransactionResult, parse_notification
from bizproc_app.models import Payment, payment_key
from bizproc_app.payments import events
from bizproc_app.payments.pipeline import authorization_matches
from bizproc_app.web import error, nul_at
from workers.queues import enqueue_reports, enqueue_send_next

bp = Blueprint("linkly", __name__, url_prefix="/linkly")
log = logging.getLogger(__name__)


@bp.post("/notify/<payment_id>/<session_id>/<kind>")
def notify(payment_id: str, session_id: str, kind: str) -> ResponseReturnValue:
    """One display, receipt or transaction event for one payment."""
    key = payment_key(payment_id)
    row = events.event_row(db.session, key) if key else None
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
    if events.apply(db.session, row, note):
        enqueue_send_next(redis_conn.client, row.terminal_id)
        enqueue_reports(redis_conn.client, row.portal_id)
    elif isinstance(note.response, TransactionResult) and _report_pending(row.id):
        enqueue_reports(redis_conn.client, row.portal_id)  # a conflict to tell people about
    return jsonify({"status": "ok"})


def _report_pending(payment_id: str) -> bool:
    payment = db.session.get(Payment, payment_id)
    return payment is not None and payment.is_final and payment.report_state == "pending"
