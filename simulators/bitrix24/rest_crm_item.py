"""REST methods crm.item.* for deals (2) and smart invoices (31)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .auth import Caller
from .crm import DEAL, INVOICE
from .filters import apply_filter, apply_order, apply_select, split_key
from .registry import method
from .rest_crm_deal import field_desc, ftype
from .util import ApiError, Paged, page, to_int
from .values import upper_snake

if TYPE_CHECKING:
    from .portal import Portal

READ_ONLY = {
    "id",
    "createdTime",
    "updatedTime",
    "movedTime",
    "stageSemanticId",
    "entityTypeId",
    "createdBy",
    "updatedBy",
    "movedBy",
}


def type_of(params: dict[str, Any]) -> int:
    """entityTypeId or the documented errors."""
    raw = params.get("entityTypeId", params.get("ENTITY_TYPE_ID"))
    if raw in (None, ""):
        raise ApiError(100, 'Required parameter "entityTypeId" is missing', 400)
    type_id = to_int(raw)
    if type_id == 5:
        raise ApiError("ENTITY_TYPE_NOT_SUPPORTED", "Entity type 5 is not supported", 400)
    if type_id not in (DEAL, INVOICE):
        raise ApiError("NOT_FOUND", "Smart process not found", 400)
    return type_id


def item_or_fail(portal: Portal, type_id: int, item_id: Any) -> dict[str, Any]:
    """The item or NOT_FOUND."""
    if to_int(item_id) is None:
        raise ApiError(100, 'Required parameter "id" is missing', 400)
    item = portal.crm.get(type_id, item_id)
    if item is None:
        raise ApiError("NOT_FOUND", "Element not found", 400)
    return item


def check_fields(portal: Portal, type_id: int, fields: Any, item: dict | None) -> dict:
    """Validate category/stage; drop read-only fields."""
    if not isinstance(fields, dict):
        raise ApiError(100, 'Required parameter "fields" is missing', 400)
    fields = {k: v for k, v in fields.items() if k not in READ_ONLY}
    cat = to_int(fields.get("categoryId"), None)
    if cat is None:
        cat = (
            item["categoryId"] if item else (0 if type_id == DEAL else portal.crm.invoice_category)
        )
    if not any(c["id"] == cat for c in portal.crm.categories(type_id)):
        raise ApiError(
            "CRM_FIELD_ERROR_VALUE_NOT_VALID", 'Value of the field "Pipeline" is not valid', 400
        )
    if "stageId" in fields and not portal.crm.stage_ok(type_id, cat, str(fields["stageId"])):
        raise ApiError(
            "CRM_FIELD_ERROR_VALUE_NOT_VALID", 'Value of the field "Stage" is not valid', 400
        )
    if item and cat != item["categoryId"] and "stageId" not in fields:
        fields["stageId"] = portal.crm.first_stage(type_id, cat)
    return fields


def recalc(portal: Portal, item: dict[str, Any]) -> None:
    """With isManualOpportunity=N the amount follows the product rows."""
    if item.get("isManualOpportunity") == "N":
        abbr = "D" if item["entityTypeId"] == DEAL else "SI"
        rows = portal.rows.get((abbr, item["id"]))
        if rows:
            item["opportunity"] = round(sum(r["price"] * r["quantity"] for r in rows), 2)


@method("crm.item.add", "crm")
def item_add(portal: Portal, caller: Caller, params: dict[str, Any]) -> Any:
    """Create an item; its first stage's robots run."""
    type_id = type_of(params)
    portal.perms.check(caller, "add", type_id, None)
    fields = check_fields(portal, type_id, params.get("fields"), None)
    item = portal.crm.add(type_id, fields, caller.user_id)
    portal.run_stage(type_id, item["id"], item["stageId"], caller.user_id)
    portal.item_event(type_id, item["id"], "ADD", caller.user_id)
    return {"item": portal.crm.view(item)}


@method("crm.item.get", "crm")
def item_get(portal: Portal, caller: Caller, params: dict[str, Any]) -> Any:
    """One item."""
    type_id = type_of(params)
    item = item_or_fail(portal, type_id, params.get("id"))
    portal.perms.check(caller, "read", type_id, item)
    return {"item": portal.crm.view(item)}


@method("crm.item.update", "crm")
def item_update(portal: Portal, caller: Caller, params: dict[str, Any]) -> Any:
    """Update an item; a stage change runs that stage's robots."""
    type_id = type_of(params)
    item = item_or_fail(portal, type_id, params.get("id"))
    portal.perms.check(caller, "write", type_id, item)
    fields = check_fields(portal, type_id, params.get("fields"), item)
    stage = fields.pop("stageId", None)
    portal.crm.set_fields(item, {**fields, "updatedBy": caller.user_id})
    recalc(portal, item)
    if stage and stage != item["stageId"]:
        portal.move_item(type_id, item["id"], str(stage), caller.user_id, by_robot=False)
    else:
        portal.item_event(type_id, item["id"], "UPDATE", caller.user_id)
    return {"item": portal.crm.view(item)}


@method("crm.item.delete", "crm")
def item_delete(portal: Portal, caller: Caller, params: dict[str, Any]) -> Any:
    """Delete an item."""
    type_id = type_of(params)
    item = item_or_fail(portal, type_id, params.get("id"))
    portal.perms.check(caller, "delete", type_id, item)
    del portal.crm.items[type_id][item["id"]]
    portal.engine.on_deleted(type_id, item["id"])
    portal.item_event(type_id, item["id"], "DELETE", caller.user_id)
    return []


@method("crm.item.list", "crm")
def item_list(portal: Portal, caller: Caller, params: dict[str, Any]) -> Any:
    """Items with filter/order/select/start; wrapped in result.items."""
    type_id = type_of(params)
    items = portal.crm.items[type_id].values()
    rows = [portal.crm.view(i) for i in items if portal.perms.allows(caller, "read", type_id, i)]
    known = set(portal.crm.view(portal.crm.blank(type_id, 0, 1)))
    flt = params.get("filter") or {}
    if isinstance(flt, dict):
        for key in flt:
            fld = split_key(str(key))[1]
            if (
                key != "logic"
                and not key.isdigit()
                and fld not in known
                and not fld.startswith("ufCrm")
            ):
                raise ApiError(
                    "INVALID_ARG_VALUE", f"Invalid filter: field '{fld}' is not allowed", 400
                )
    rows = apply_filter(rows, flt)
    order = params.get("order")
    if isinstance(order, dict):
        for fld, direction in order.items():
            if fld not in known or str(direction).upper() not in ("ASC", "DESC"):
                raise ApiError("INVALID_ARG_VALUE", f"Invalid order: field '{fld}'", 400)
    rows = apply_order(rows, order, "id")
    rows = [apply_select(r, params.get("select"), ("id",)) for r in rows]
    p = page(rows, params.get("start"), portal.cfg.page_size)
    return Paged({"items": p.items}, total=p.total, next=p.next)


@method("crm.item.fields", "crm")
def item_fields(portal: Portal, caller: Caller, params: dict[str, Any]) -> Any:
    """Field descriptions (camelCase names with upperName)."""
    type_id = type_of(params)
    out = {}
    for key, value in portal.crm.view(portal.crm.blank(type_id, 0, 1)).items():
        desc = field_desc(key, ftype(value), key in READ_ONLY)
        desc["upperName"] = upper_snake(key)
        out[key] = desc
    return {"fields": out}
