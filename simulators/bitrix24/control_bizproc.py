"""Control API for business processes: run a robot, list, inspect and end workflows."""

from __future__ import annotations

from flask import Response, request

from .control_base import ControlBlueprint, body
from .crm import DEAL
from .current_portal import current_portal
from .engine import Step
from .http_rest import json_response
from .util import to_int

bp = ControlBlueprint("control_bizproc", __name__)


@bp.doc_route(
    "/robots/run",
    ["POST"],
    "run a robot/activity on a document {entity_type_id=2, "
    "id, code, properties, timeout_duration, user_id}",
)
def run() -> Response:
    """Start a one-step workflow."""
    portal = current_portal()
    b = body()
    type_id = to_int(b.get("entity_type_id"), DEAL) or DEAL
    item_id = to_int(b.get("id"), 0) or 0
    with portal.lock:
        if portal.crm.get(type_id, item_id) is None:
            return json_response({"error": "document not found"}, 404)
        if str(b.get("code")) not in portal.activities:
            return json_response({"error": "robot/activity not registered"}, 400)
        step = Step(
            code=str(b["code"]),
            properties=b.get("properties") or {},
            timeout=to_int(b.get("timeout_duration"), 0) or 0,
            auth_user_id=to_int(b.get("auth_user_id")),
        )
        wf = portal.engine.start(type_id, item_id, [step], to_int(b.get("user_id"), 1) or 1)
        return json_response(wf.view())


@bp.doc_route(
    "/workflows",
    ["GET"],
    "workflows with status, waiting step, log, return values (?type=2&id=5 filters)",
)
def workflows() -> Response:
    """List workflows."""
    portal = current_portal()
    t, i = to_int(request.args.get("type")), to_int(request.args.get("id"))
    with portal.lock:
        portal.engine.tick()
        return json_response(
            [
                w.view()
                for w in portal.engine.workflows.values()
                if (t is None or w.type_id == t) and (i is None or w.item_id == i)
            ]
        )


@bp.doc_route("/workflows/<wf_id>", ["GET"], "one workflow")
def workflow(wf_id: str) -> Response:
    """One workflow."""
    portal = current_portal()
    with portal.lock:
        portal.engine.tick()
        wf = portal.engine.workflows.get(wf_id)
        return json_response(wf.view()) if wf else json_response({"error": "not found"}, 404)


@bp.doc_route("/workflows/<wf_id>/terminate", ["POST"], "kill one workflow")
def terminate(wf_id: str) -> Response:
    """Kill."""
    portal = current_portal()
    with portal.lock:
        wf = portal.engine.workflows.get(wf_id)
        if wf is None:
            return json_response({"error": "not found"}, 404)
        portal.engine.terminate(wf, "killed by test")
        return json_response(wf.view())


@bp.doc_route(
    "/workflows/end", ["POST"], "'workflow ended' switch: terminate every running workflow"
)
def end_all() -> Response:
    """Kill all."""
    portal = current_portal()
    with portal.lock:
        n = 0
        for wf in portal.engine.workflows.values():
            if wf.status == "running":
                portal.engine.terminate(wf, "ended by test")
                n += 1
        return json_response({"terminated": n})
