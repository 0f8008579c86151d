"""Control API under /_sim/ (no auth): PIN pads, options, faults, ledger, deliveries, sessions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, current_app, request

from . import config as config_mod
from .faults import FAULTS
from .page import page_html
from .session import session_key
from .web import engine, json_response

bp = Blueprint("linkly_control", __name__, url_prefix="/_sim")
ROUTES: list[dict[str, str]] = []
BUTTONS = {"card", "chq", "sav", "crd", "clear", "ok", "cancel", "yes", "no", *"0123456789"}


def route(rule: str, method: str, description: str) -> Callable[[Callable], Callable]:
    """Register a control route and its one-line description for GET /_sim/."""
    ROUTES.append({"method": method, "path": f"/_sim{rule}", "description": description})
    return bp.route(rule, methods=[method], strict_slashes=False)


def _json() -> dict[str, Any]:
    """The JSON object body of a control request ({} if none)."""
    data = request.get_json(force=True, silent=True)
    return data if isinstance(data, dict) else {}


def _bad(message: str, status: int = 400) -> Response:
    """A control-API error."""
    return json_response({"error": message}, status)


@route("/", "GET", "list every control route with a description")
def index() -> Response:
    """List the control routes."""
    return json_response({"routes": ROUTES, "faults": FAULTS})


@route("/config", "GET", "current options, with defaults and help")
def get_config() -> Response:
    """Show the options."""
    return json_response({"config": engine().config.to_dict(), "options": config_mod.describe()})


@route("/config", "PATCH", "change options: {name: value, ...}")
def patch_config() -> Response:
    """Change options at runtime."""
    try:
        engine().config.update(_json())
    except ValueError as exc:
        return _bad(str(exc))
    return json_response({"config": engine().config.to_dict()})


@route("/pinpads", "GET", "list PIN pads (id, mode, delay, account, pair code, busy)")
def list_pads() -> Response:
    """List PIN pads."""
    return json_response({"pinpads": [p.summary() for p in engine().pads.all()]})


@route("/pinpads", "POST", "create a PIN pad {mode, cardholder_delay, account, id?, pair_code?}")
def create_pad() -> Response:
    """Create a PIN pad with a fresh pair code."""
    data = _json()
    settings = {k: data[k] for k in ("id", "mode", "cardholder_delay", "account") if k in data}
    try:
        pad = engine().create_pinpad(data.get("pair_code"), **settings)
    except (TypeError, ValueError) as exc:
        return _bad(str(exc))
    return json_response(pad.summary(), 201)


def _pad(pad_id: str) -> Any:
    """Look a pad up or None."""
    return engine().pads.get(pad_id)


@route("/pinpads/<pad_id>", "GET", "one PIN pad")
def get_pad(pad_id: str) -> Response:
    """Describe one pad."""
    pad = _pad(pad_id)
    return json_response(pad.summary()) if pad else _bad("no such PIN pad", 404)


@route("/pinpads/<pad_id>", "PATCH", "change {mode, cardholder_delay, account, logged_on}")
def patch_pad(pad_id: str) -> Response:
    """Change a pad's behaviour."""
    pad, data = _pad(pad_id), _json()
    if pad is None:
        return _bad("no such PIN pad", 404)
    if data.get("mode", pad.mode) not in ("auto", "interactive"):
        return _bad("mode must be auto or interactive")
    if data.get("account", pad.account) not in ("CHQ", "SAV", "CRD"):
        return _bad("account must be CHQ, SAV or CRD")
    try:
        delay = float(data.get("cardholder_delay", pad.cardholder_delay))
    except (TypeError, ValueError):
        return _bad("cardholder_delay must be a number")
    with pad.lock:
        pad.mode, pad.account, pad.cardholder_delay = (
            data.get("mode", pad.mode),
            data.get("account", pad.account),
            delay,
        )
        pad.logged_on = bool(data.get("logged_on", pad.logged_on))
    return json_response(pad.summary())


@route("/pinpads/<pad_id>/pair-code", "POST", "mint a new pair code {ttl?}")
def new_pair_code(pad_id: str) -> Response:
    """Mint a pair code for a pad."""
    pad = _pad(pad_id)
    if pad is None:
        return _bad("no such PIN pad", 404)
    ttl = float(_json().get("ttl", engine().config.pair_code_ttl))
    code = engine().pads.new_pair_code(pad, ttl)
    return json_response({"pinpad": pad.id, "pair_code": code, "expires_in": ttl})


@route("/pinpads/<pad_id>/state", "GET", "live display and prompt state for the PIN pad page")
def pad_state(pad_id: str) -> Response:
    """State JSON polled by the page."""
    from .page import state

    pad = _pad(pad_id)
    return json_response(state(pad)) if pad else _bad("no such PIN pad", 404)


@route(
    "/pinpads/<pad_id>/press",
    "POST",
    "press a button {button: card|chq|sav|crd|0-9|clear|ok|cancel|yes|no}",
)
def press(pad_id: str) -> Response:
    """Press a button on the virtual PIN pad."""
    from .page import state

    pad, button = _pad(pad_id), str(_json().get("button", "")).lower()
    if pad is None:
        return _bad("no such PIN pad", 404)
    if button not in BUTTONS:
        return _bad(f"unknown button {button!r}")
    accepted = engine().press(pad, button)
    return json_response({"accepted": accepted, "state": state(pad)})


@route("/pinpad/<pad_id>", "GET", "virtual PIN pad page (HTML) for a person with a browser")
def pad_page(pad_id: str) -> Response:
    """Serve the self-contained PIN pad page."""
    if _pad(pad_id) is None:
        return _bad("no such PIN pad", 404)
    return Response(page_html(pad_id), mimetype="text/html")


@route("/faults", "GET", "armed faults")
def list_faults() -> Response:
    """List armed faults."""
    return json_response({"faults": engine().faults.list(), "known": FAULTS})


@route(
    "/faults",
    "POST",
    "arm a fault {fault, scope: next|run, pinpad?, sessionId?, ops?, count?, params?}",
)
def add_fault() -> Response:
    """Arm a fault."""
    try:
        fault = engine().faults.add(_json())
    except (TypeError, ValueError) as exc:
        return _bad(str(exc))
    return json_response({"id": fault.id, "fault": fault.fault, "scope": fault.scope}, 201)


@route("/faults", "DELETE", "disarm every fault")
def clear_faults() -> Response:
    """Disarm every fault."""
    engine().faults.clear()
    return json_response({"deleted": "all"})


@route("/faults/<int:fault_id>", "DELETE", "disarm one fault")
def delete_fault(fault_id: int) -> Response:
    """Disarm one fault."""
    found = engine().faults.delete(fault_id)
    return json_response({"deleted": fault_id}) if found else _bad("no such fault", 404)


@route("/ledger", "GET", "approved charges/refunds (?pinpad=, ?txnRef=)")
def ledger() -> Response:
    """Show the ledger."""
    args = request.args
    entries = engine().ledger.entries(args.get("pinpad"), args.get("txnRef"))
    return json_response({"entries": entries})


@route("/notifications", "GET", "notification delivery log (?sessionId=, ?type=)")
def notifications() -> Response:
    """Show the delivery log."""
    args = request.args
    return json_response(
        {"deliveries": engine().notifier.log(args.get("sessionId"), args.get("type"))}
    )


@route("/sessions", "GET", "all sessions (short form; ?pinpad=)")
def sessions() -> Response:
    """List sessions briefly."""
    pad = request.args.get("pinpad")
    rows = [
        {
            "sessionId": s.sid,
            "op": s.op,
            "pinpad": s.pinpad.id,
            "state": s.state,
            "async": s.is_async,
            "waiting": s.waiting,
            "created": s.created,
            "finished": s.finished,
        }
        for s in engine().sessions.all()
        if pad is None or s.pinpad.id == pad
    ]
    return json_response({"sessions": rows})


@route("/sessions/<sid>", "GET", "one session: request, faults, events, inputs, result")
def session(sid: str) -> Response:
    """Inspect a session."""
    key = session_key(sid)
    s = engine().sessions.get(key) if key else None
    return json_response(s.describe()) if s else _bad("no such session", 404)


@route("/reset", "POST", "clear sessions, ledger, faults and deliveries (PIN pads are kept)")
def reset() -> Response:
    """Reset run state."""
    engine().reset()
    return json_response({"reset": True})


@route("/stats", "GET", "counts of PIN pads, sessions, ledger entries, secrets and tokens")
def stats() -> Response:
    """Summary counts."""
    eng = engine()
    running = sum(1 for s in eng.sessions.all() if s.state == "running")
    return json_response(
        {
            "pinpads": len(eng.pads.all()),
            "sessions": len(eng.sessions.all()),
            "running": running,
            "ledger": len(eng.ledger.entries()),
            **eng.auth.counts(),
            "requests": dict(current_app.extensions.get("linkly_requests", {})),
        }
    )
