"""REST host endpoints (v1): session operations, recovery GET and sendkey (reference §4-§9)."""

from __future__ import annotations

from flask import Blueprint, Response, request

from . import validation
from .session import Session, session_key
from .web import (
    ack,
    bearer,
    body_lower,
    drop_connection,
    engine,
    envelope_response,
    problem,
    unauthorized,
)

bp = Blueprint("linkly_rest", __name__)
OPS = ("transaction", "logon", "status", "settlement", "reprintreceipt", "querycard")


def _async_flag() -> bool | None:
    """Parse ?async= (missing = sync); None when the value is not a boolean."""
    raw = request.args.get("async")
    if raw is None:
        return False
    value = raw.strip().lower()
    if value in ("true", "1", "yes"):
        return True
    if value in ("false", "0", "no", ""):
        return False
    return None


def _visible(s: Session | None, pinpad: str) -> Session | None:
    """Return the session if the caller's token may see it (session_scope option)."""
    if s is None:
        return None
    if engine().config.session_scope == "pinpad" and s.pinpad.id != pinpad:
        return None
    return s


@bp.post("/v1/sessions/<sid>/<op>")
def post_operation(sid: str, op: str) -> Response:
    """Start an operation on the token's PIN pad (sync or async)."""
    info = bearer()
    if info is None:
        return unauthorized()
    if op == "sendkey":
        return _sendkey(sid, info.pinpad)
    if op not in OPS:
        return problem(404, detail=f"unknown operation {op!r}")
    key = session_key(sid)
    if key is None:
        return problem(400, {"sessionId": ["sessionId must be a UUID"]})
    is_async = _async_flag()
    if is_async is None:
        return problem(400, {"async": ["async must be true or false"]})
    body = body_lower()
    errors = validation.envelope(body, op, is_async, engine().config)
    if errors:
        return problem(400, errors)
    return _start(sid, key, op, body, is_async, info.pinpad)


def _start(sid: str, key: str, op: str, body: dict, is_async: bool, pinpad: str) -> Response:
    """Create and run the session, applying POST faults."""
    eng, cfg = engine(), engine().config
    existing = eng.sessions.get(key)
    if existing is not None:
        return _reused(existing, pinpad)
    pad = eng.pads.get(pinpad)
    if pad is None:
        return unauthorized()
    note = body.get("notification") or {}
    s = Session(
        key,
        sid,
        op,
        pad,
        body["request"],
        is_async,
        note.get("uri"),
        note.get("authorizationheader"),
    )
    s.faults = {f.fault: dict(f.params) for f in eng.faults.take(pad.id, key, op)}
    http_error = s.faults.get("http_error")
    if http_error and not http_error.get("processed", True):
        return problem(http_error["status"])
    if not eng.sessions.add(s):
        return _reused(eng.sessions.get(key), pinpad)
    eng.accept(s)
    if http_error:
        return problem(http_error["status"])
    if "drop_response" in s.faults:
        if not is_async:
            s.done.wait(cfg.sync_timeout)
        return drop_connection()
    if is_async or not s.done.wait(cfg.sync_timeout) or s.result is None:
        return ack(202)
    return envelope_response(s.result)


def _reused(existing: Session | None, pinpad: str) -> Response:
    """A POST with a sessionId seen before: reject (default 400) or replay (200)."""
    status = engine().config.reused_session_status
    if status == 200 and _visible(existing, pinpad) is not None and existing is not None:
        return envelope_response(existing.result) if existing.result else ack(202)
    return problem(
        status if status >= 400 else 400, {"sessionId": ["sessionId has already been used"]}
    )


@bp.get("/v1/sessions/<sid>/<op>")
def get_operation(sid: str, op: str) -> Response:
    """Recovery: 202 {} while running, 200 + saved envelope when done, 404 if never received."""
    info = bearer()
    if info is None:
        return unauthorized()
    if op not in OPS:
        return problem(404, detail=f"unknown operation {op!r}")
    key = session_key(sid)
    if key is None:
        return problem(400, {"sessionId": ["sessionId must be a UUID"]})
    eng = engine()
    for fault in eng.faults.take(info.pinpad, key, op, get=True):
        return problem(fault.params["status"])
    s = _visible(eng.sessions.get(key), info.pinpad)
    if s is None:
        return problem(404, detail="session not found")
    if s.result is None:
        return ack(202)
    return envelope_response(s.result)


def _sendkey(sid: str, pinpad: str) -> Response:
    """Pass a key to the in-flight session; ignored (still 2xx) when not enabled."""
    key = session_key(sid)
    if key is None:
        return problem(400, {"sessionId": ["sessionId must be a UUID"]})
    eng = engine()
    s = _visible(eng.sessions.get(key), pinpad)
    if s is None:
        return problem(404, detail="session not found")
    body = body_lower()
    errors = validation.sendkey(body)
    if errors:
        return problem(400, errors)
    req = body["request"]
    accepted = eng.sendkey(s, req["key"], req.get("data") or "")
    s.inputs.append({"sendkey": req["key"], "data": req.get("data") or "", "accepted": accepted})
    return ack(200)
