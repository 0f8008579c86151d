"""The robot and activity handler: verify, validate, de-duplicate, store, enqueue, answer."""

from __future__ import annotations

import logging
from functools import cache
from typing import Any

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue
from marshmallow import Schema, ValidationError
from redis import RedisError

from bizproc_app.extensions import db, redis_conn, secrets
from bizproc_app.payments import robot_calls
from bizproc_app.payments.queues import enqueue_calls
from bizproc_app.portals.access import application_token_matches, find_portal
from bizproc_app.web.http import BadForm, error, field_errors, form_data
from bizproc_app.web.schemas import HandlerCallSchema

bp = Blueprint("handler", __name__, url_prefix="/bitrix")
log = logging.getLogger(__name__)


@bp.post("/handler")
def handler() -> ResponseReturnValue:
    """Accept one robot or activity call and queue its work; answer at once."""
    try:
        data = form_data()
    except BadForm as exc:
        return error(400, str(exc))
    raw_auth = data.get("auth")
    auth = raw_auth if isinstance(raw_auth, dict) else {}
    member_id, token = str(auth.get("member_id", "")), str(auth.get("application_token", ""))
    portal = find_portal(db.session, member_id)
    # The application token first: nothing is stored or queued for a caller who lacks it.
    if (
        not application_token_matches(portal, token, secrets.box)
        or not portal
        or not portal.installed
    ):
        return error(401, "unknown portal or wrong application token")
    try:
        envelope = _schema(HandlerCallSchema).load(data)
    except ValidationError as exc:
        return error(400, "invalid handler call", field_errors(exc))
    schema = robot_calls.property_schema(envelope["code"])
    if schema is None:
        return error(
            400, "unknown robot or activity code", {"code": ["Not registered by this app."]}
        )
    errors: dict[str, Any] | None = None
    try:
        envelope["properties"] = _schema(schema).load(envelope["properties"])
    except ValidationError as exc:
        errors = {"properties": exc.messages}
        envelope["properties"] = {k: str(v)[:200] for k, v in envelope["properties"].items()}
    call_id, created = robot_calls.accept(
        db.session, portal, _jsonable(envelope), errors and errors["properties"]
    )
    if created:
        try:
            enqueue_calls(redis_conn.client, portal.id)
        except RedisError:
            log.exception("call %s stored but not queued", call_id)
            return error(503, "stored, but the job queue is unavailable")
    if errors:
        # The workflow hears about it too: the queued job reports status=error.
        return error(400, "invalid properties", errors)
    return jsonify({"status": "queued" if created else "duplicate", "call_id": call_id})


@cache
def _schema(cls: type[Schema]) -> Schema:
    """One instance per schema: loading does not change it, and building one costs."""
    return cls()


def _jsonable(envelope: dict[str, Any]) -> dict[str, Any]:
    """Decimals become strings so the stored call is plain JSON."""
    props = {
        k: str(v) if not isinstance(v, int | str) else v for k, v in envelope["properties"].items()
    }
    return {**envelope, "properties": props}
