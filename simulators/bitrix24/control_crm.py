"""Control API for CRM documents: robots on stages; create, move, delete deals and invoices."""

from __future__ import annotations

from flask import Response, request

from .control_base import ControlBlueprint, body, error
from .crm import DEAL, INVOICE
from .current_portal import current_portal
from .http_rest import json_response
from .rest_crm_deal import fields_from_legacy
from .rest_crm_item import recalc
from .rest_crm_payment import make_row
from .util import ApiError, to_int

bp = ControlBlueprint("control_crm", __name__)


@bp.doc_route(
    "/automation",
    ["GET", "POST", "DELETE"],
    "robots placed on stages: POST {entity_type_id=2, stage_id, code, properties, "
    "timeout_duration, auth_user_id} or {builtin: change_stage, stage_id, target_stage, "
    "condition}; DELETE clears",
)
def automation() -> Response:
    """Place robots on stages."""
    portal = current_portal()
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
    portal = current_portal()
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
            portal.rows[(abbr, item["id"])] = [make_row(portal, abbr, item["id"], r) for r in rows]
            recalc(portal, item)
        if stage and portal.crm.stage_ok(type_id, item["categoryId"], stage):
            item["stageId"] = stage
        if b.get("run_robots", True):
            portal.run_stage(type_id, item["id"], item["stageId"], uid)
        return json_response(portal.crm.view(item))


@bp.doc_route(
    "/deals",
    ["POST"],
    "create a deal {fields (camelCase or UPPER), rows [{productName, price, quantity}], user_id}",
)
def deals() -> Response:
    """Create a deal."""
    return create(DEAL)


@bp.doc_route(
    "/invoices",
    ["POST"],
    "create a smart invoice {fields, rows [{productName, price, quantity}], deal_id (parentId2)}",
)
def invoices() -> Response:
    """Create an invoice."""
    return create(INVOICE)


@bp.doc_route(
    "/items/<int:type_id>/<int:item_id>/move",
    ["POST"],
    "move a document to a stage {stage_id, user_id} (runs the stage's robots)",
)
def move(type_id: int, item_id: int) -> Response:
    """Stage change."""
    portal = current_portal()
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


@bp.doc_route("/deals/<int:item_id>/move", ["POST"], "move a deal to a stage {stage_id, user_id}")
def move_deal(item_id: int) -> Response:
    """Deal stage change."""
    return move(DEAL, item_id)


@bp.doc_route("/items/<int:type_id>/<int:item_id>", ["DELETE"], "delete a document")
def delete(type_id: int, item_id: int) -> Response:
    """Delete a document; its workflows end."""
    portal = current_portal()
    with portal.lock:
        if portal.crm.items.get(type_id, {}).pop(item_id, None) is None:
            return json_response({"error": "not found"}, 404)
        portal.engine.on_deleted(type_id, item_id)
    return json_response({"deleted": True})
