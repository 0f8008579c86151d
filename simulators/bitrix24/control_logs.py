"""Control API logs: REST request counters, POSTs sent to the app, notifications."""

from __future__ import annotations

from flask import Response, request

from .control_base import ControlBlueprint
from .current_portal import current_portal
from .http_rest import json_response

bp = ControlBlueprint("control_logs", __name__)


@bp.doc_route(
    "/requests",
    ["GET", "DELETE"],
    "REST request counts per method and batch commands per method (DELETE resets)",
)
def requests_() -> Response:
    """Counters."""
    portal = current_portal()
    with portal.lock:
        if request.method == "DELETE":
            portal.requests.clear()
            portal.batch_commands.clear()
            portal.errors.clear()
        return json_response(
            {
                "requests": portal.requests,
                "batch_commands": portal.batch_commands,
                "errors": portal.errors,
                "total": sum(portal.requests.values()),
            }
        )


@bp.doc_route("/outbound", ["GET"], "every POST sent to the app (?kind=robot|event|...)")
def outbound() -> Response:
    """Outbound log."""
    portal = current_portal()
    portal.outbound.wait_idle(5)
    kind = request.args.get("kind")
    with portal.lock:
        return json_response([e for e in portal.outbound.log if not kind or e["kind"] == kind])


@bp.doc_route("/notifications", ["GET"], "im.notify notifications")
def notifications() -> Response:
    """Notifications."""
    portal = current_portal()
    with portal.lock:
        return json_response(portal.notifications)
