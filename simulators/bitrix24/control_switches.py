"""Control API switches: simulated clock, failure switches, CRM permissions, rate limits."""

from __future__ import annotations

from flask import Response, request

from .control_base import ControlBlueprint, body
from .current_portal import current_portal
from .http_rest import json_response
from .util import to_int

bp = ControlBlueprint("control_switches", __name__)


@bp.doc_route("/clock/advance", ["POST"], "advance the simulated clock {seconds} (fires timeouts)")
def advance() -> Response:
    """Move time."""
    portal = current_portal()
    with portal.lock:
        portal.clock.advance(float(body().get("seconds", 0)))
        portal.engine.tick()
        return json_response({"offset": portal.clock.offset})


@bp.doc_route(
    "/faults",
    ["GET", "POST"],
    "failure switches: fail_next, fail_method, delay, "
    "delay_method, down_calls, down_seconds, "
    "payment_required, drop_handler_calls, oauth_down_calls, overload_limit",
)
def faults() -> Response:
    """Read or set failure switches."""
    portal = current_portal()
    if request.method == "POST":
        with portal.lock:
            unknown = portal.faults.update(body(), portal.clock.now())
        if unknown:
            return json_response({"error": "unknown faults", "names": unknown}, 400)
    return json_response(portal.faults.to_dict())


@bp.doc_route("/faults/reset", ["POST"], "clear every failure switch")
def faults_reset() -> Response:
    """Clear faults."""
    portal = current_portal()
    with portal.lock:
        portal.faults.__init__()
    return json_response(portal.faults.to_dict())


@bp.doc_route(
    "/permissions",
    ["GET", "PUT", "DELETE"],
    "per-user CRM rights: PUT {user_id, entityTypeId, read|add|write|delete: all|own|none}; "
    "DELETE gives everyone everything again",
)
def permissions() -> Response:
    """Read, set or reset the CRM permissions."""
    portal = current_portal()
    with portal.lock:
        if request.method == "DELETE":
            portal.perms.reset()
        elif request.method == "PUT":
            b = body()
            uid, type_id = to_int(b.pop("user_id", None)), to_int(b.pop("entityTypeId", None))
            if uid is None or type_id not in (2, 31):
                return json_response({"error": "need user_id and entityTypeId 2 or 31"}, 400)
            try:
                return json_response(portal.perms.set(uid, type_id, b))
            except ValueError as exc:
                return json_response({"error": str(exc)}, 400)
        return json_response(
            {str(u): {str(t): r for t, r in by.items()} for u, by in portal.perms.rules.items()}
        )


@bp.doc_route("/ratelimit/reset", ["POST"], "empty the leaky buckets and operating-time counters")
def rl_reset() -> Response:
    """Reset limits."""
    portal = current_portal()
    with portal.lock:
        portal.bucket.reset()
        portal.operating.reset()
    return json_response({"ok": True})


@bp.doc_route("/operating", ["POST"], "add fake execution time {method, seconds} (to force 429)")
def operating() -> Response:
    """Inflate operating time."""
    portal = current_portal()
    b = body()
    with portal.lock:
        portal.operating.add(str(b.get("method", "")).lower(), float(b.get("seconds", 0)))
    return json_response({"ok": True})
