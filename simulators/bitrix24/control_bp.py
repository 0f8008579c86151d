"""Control API, CRM and business-process part: documents, stages, robots, workflows."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Blueprint, Response, request

from .control import body, route
from .crm import DEAL, INVOICE
from .engine import Step
from .http_rest import json_response
from .rest_crm_deal import fields_from_legacy
from .rest_crm_item import recalc
from .rest_crm_payment import make_row, pay_view
from .util import ApiError, to_int

if TYPE_CHECKING:
    from .portal import Portal


def error(err: ApiError) -> Response:
    """A control-API error."""
    return json_response(err.body(), err.status)


def make_control_bp(portal: Portal) -> Blueprint:
    """The CRM/BP control routes."""
    bp = Blueprint("control_bp", __name__, url_prefix="/_sim")

    @route(
        bp,
        "/automation",
        ["GET", "POST", "DELETE"],
        "robots placed on stages: POST {entity_type_id=2, stage_id, code, properties, "
        "timeout_duration, auth_user_id} or {builtin: change_stage, stage_id, target_stage, "
        "condition}; DELETE clears",
    )
    def automation() -> Response:
        """Place robots on stages."""
        with portal.lock:
            if request.method == "DELETE":
                portal.automation.clear()
            elif request.method == "POST":
                b = body()
                entry = {
                    "id": portal.next_id("automation"),
                    "entityTypeId": to_int(b.get("entity_type_id"), DEAL),
                    "stageId": str(b.get("stage_id", "")),
                    "code": str(b.get("code", "")),
                    "properties": b.get("properties") or {},
                    "builtin": str(b.get("builtin", "")),
                    "stage_id": str(b.get("target_stage", "")),
                    "condition": b.get("condition") or {},
                }
                for key in ("timeout_duration", "auth_user_id"):
                    if b.get(key) is not None:
                        entry[key] = to_int(b[key])
                if not entry["stageId"] or not (entry["code"] or entry["builtin"]):
                    return json_response({"error": "stage_id and code (or builtin) required"}, 400)
                portal.automation.append(entry)
                return json_response(entry)
            return json_response(portal.automation)

    def create(type_id: int) -> Response:
        """Create a document from camelCase (or UPPER for deals) fields."""
        b = body()
        fields = dict(b.get("fields") or {})
        if type_id == DEAL and any(k.isupper() for k in fields):
            cat = fields.get("CATEGORY_ID")
            fields = fields_from_legacy(portal, fields)
            if cat is not None:
                fields["categoryId"] = cat
        if b.get("deal_id") is not None:
            fields["parentId2"] = b["deal_id"]
        uid = to_int(b.get("user_id"), 1) or 1
        with portal.lock:
            stage = fields.pop("stageId", None)
            item = portal.crm.add(type_id, fields, uid)
            rows = [r for r in b.get("rows") or [] if isinstance(r, dict)]
            if rows:  # before the first stage's robots run, as the portal's own form saves them
                abbr = "D" if type_id == DEAL else "SI"
                portal.rows[(abbr, item["id"])] = [
                    make_row(portal, abbr, item["id"], r) for r in rows
                ]
                recalc(portal, item)
            if stage and portal.crm.stage_ok(type_id, item["categoryId"], stage):
                item["stageId"] = stage
            if b.get("run_robots", True):
                portal.run_stage(type_id, item["id"], item["stageId"], uid)
            return json_response(portal.crm.view(item))

    @route(
        bp,
        "/deals",
        ["POST"],
        "create a deal {fields (camelCase or UPPER), rows [{productName, price, quantity}], "
        "user_id}",
    )
    def deals() -> Response:
        """Create a deal."""
        return create(DEAL)

    @route(
        bp,
        "/invoices",
        ["POST"],
        "create a smart invoice {fields, rows [{productName, price, quantity}], "
        "deal_id (parentId2)}",
    )
    def invoices() -> Response:
        """Create an invoice."""
        return create(INVOICE)

    @route(
        bp,
        "/items/<int:type_id>/<int:item_id>/move",
        ["POST"],
        "move a document to a stage {stage_id, user_id} (runs the stage's robots)",
    )
    def move(type_id: int, item_id: int) -> Response:
        """Stage change."""
        b = body()
        with portal.lock:
            try:
                portal.move_item(
                    type_id,
                    item_id,
                    str(b.get("stage_id", "")),
                    to_int(b.get("user_id"), 1) or 1,
                    by_robot=False,
                )
            except ApiError as err:
                return error(err)
            return json_response(portal.crm.view(portal.crm.get(type_id, item_id) or {}))

    @route(bp, "/deals/<int:item_id>/move", ["POST"], "move a deal to a stage {stage_id, user_id}")
    def move_deal(item_id: int) -> Response:
        """Deal stage change."""
        return move(DEAL, item_id)

    @route(bp, "/items/<int:type_id>/<int:item_id>", ["DELETE"], "delete a document")
    def delete(type_id: int, item_id: int) -> Response:
        """Delete a document; its workflows end."""
        with portal.lock:
            if portal.crm.items.get(type_id, {}).pop(item_id, None) is None:
                return json_response({"error": "not found"}, 404)
            portal.engine.on_deleted(type_id, item_id)
        return json_response({"deleted": True})

    @route(
        bp,
        "/robots/run",
        ["POST"],
        "run a robot/activity on a document {entity_type_id=2, "
        "id, code, properties, timeout_duration, user_id}",
    )
    def run() -> Response:
        """Start a one-step workflow."""
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

    @route(
        bp,
        "/workflows",
        ["GET"],
        "workflows with status, waiting step, log, return values (?type=2&id=5 filters)",
    )
    def workflows() -> Response:
        """List workflows."""
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

    @route(bp, "/workflows/<wf_id>", ["GET"], "one workflow")
    def workflow(wf_id: str) -> Response:
        """One workflow."""
        with portal.lock:
            portal.engine.tick()
            wf = portal.engine.workflows.get(wf_id)
            return json_response(wf.view()) if wf else json_response({"error": "not found"}, 404)

    @route(bp, "/workflows/<wf_id>/terminate", ["POST"], "kill one workflow")
    def terminate(wf_id: str) -> Response:
        """Kill."""
        with portal.lock:
            wf = portal.engine.workflows.get(wf_id)
            if wf is None:
                return json_response({"error": "not found"}, 404)
            portal.engine.terminate(wf, "killed by test")
            return json_response(wf.view())

    @route(
        bp, "/workflows/end", ["POST"], "'workflow ended' switch: terminate every running workflow"
    )
    def end_all() -> Response:
        """Kill all."""
        with portal.lock:
            n = 0
            for wf in portal.engine.workflows.values():
                if wf.status == "running":
                    portal.engine.terminate(wf, "ended by test")
                    n += 1
            return json_response({"terminated": n})

    @route(bp, "/crm", ["GET"], "CRM state: deals, invoices, product rows, payments, comments")
    def crm() -> Response:
        """CRM dump."""
        with portal.lock:
            return json_response(
                {
                    "deals": [portal.crm.view(i) for i in portal.crm.items[DEAL].values()],
                    "invoices": [portal.crm.view(i) for i in portal.crm.items[INVOICE].values()],
                    "product_rows": [r for rs in portal.rows.values() for r in rs],
                    "payments": [
                        {
                            **pay_view(p),
                            "entityTypeId": p["_type"],
                            "entityId": p["_entity"],
                            "products": p["_products"],
                        }
                        for p in portal.payments.values()
                    ],
                    "comments": portal.comments,
                }
            )

    @route(
        bp,
        "/placements/open",
        ["POST"],
        "POST the frame form to a bound placement's handler {placement, id, user_id} (server side)",
    )
    def open_placement() -> Response:
        """Open a placement like the portal page would."""
        b = body()
        code = str(b.get("placement", "CRM_DEAL_DETAIL_TAB"))
        with portal.lock:
            bound = [p for p in portal.placements if p["placement"] == code]
            if not bound:
                return json_response({"error": "placement not bound"}, 404)
            options = {"ID": str(b.get("id", ""))}
            query, form = portal.frame(to_int(b.get("user_id"), 1) or 1, code, options)
        return json_response(
            portal.outbound.send_now(bound[0]["handler"], form, "placement", query=query)
        )

    return bp
