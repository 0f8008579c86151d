"""REST methods crm.deal.* (legacy), crm.status.list, crm.category.list, stage lists."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from .auth import Caller
from .crm import DEAL, INVOICE
from .filters import apply_filter, apply_order, apply_select
from .registry import method
from .util import ApiError, Paged, page, to_int, upper_keys
from .values import upper_snake

if TYPE_CHECKING:
    from .portal import Portal

SPECIAL = {
    "createdBy": "CREATED_BY_ID",
    "updatedBy": "MODIFY_BY_ID",
    "movedBy": "MOVED_BY_ID",
    "createdTime": "DATE_CREATE",
    "updatedTime": "DATE_MODIFY",
}
HIDDEN = {"entityTypeId", "contactIds", "mycompanyId", "xmlId", "taxValue"}
REVERSE = {v: k for k, v in SPECIAL.items()}
READ_ONLY = {
    "ID",
    "DATE_CREATE",
    "DATE_MODIFY",
    "CREATED_BY_ID",
    "MODIFY_BY_ID",
    "MOVED_BY_ID",
    "MOVED_TIME",
    "STAGE_SEMANTIC_ID",
    "CATEGORY_ID",
}


def camel(name: str) -> str:
    """UPPER_SNAKE → camelCase (UF_CRM_POS_REF → ufCrmPosRef)."""
    if name in REVERSE:
        return REVERSE[name]
    head, *rest = name.lower().split("_")
    return head + "".join(p.capitalize() for p in rest)


def legacy(portal: Portal, item: dict[str, Any]) -> dict[str, Any]:
    """A deal as crm.deal.* returns it: UPPER_CASE keys, numbers as strings."""
    out: dict[str, Any] = {}
    for key, value in portal.crm.view(item).items():
        if key in HIDDEN:
            continue
        name = SPECIAL.get(key, upper_snake(key))
        if isinstance(value, float):
            value = f"{value:.2f}"
        elif isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        elif value is None:
            value = None
        out[name] = value
    return out


def fields_from_legacy(portal: Portal, fields: Any) -> dict[str, Any]:
    """Known UPPER fields (and UF_CRM_*) → camelCase; unknown ones dropped."""
    if not isinstance(fields, dict):
        raise ApiError("", "Parameter 'fields' must be array.", 400)
    known = set(legacy(portal, portal.crm.blank(DEAL, 0, 1)))
    out = {}
    for key, value in fields.items():
        k = str(key).upper()
        if (k in known and k not in READ_ONLY) or k.startswith("UF_CRM_"):
            out[camel(k)] = value
    return out


def deal_or_fail(portal: Portal, params: dict[str, Any]) -> dict[str, Any]:
    """The deal named by id/ID or the legacy errors."""
    up = upper_keys(params)
    deal_id = to_int(up.get("ID"))
    if not deal_id or deal_id <= 0:
        raise ApiError("", "ID is not defined or invalid.", 400)
    item = portal.crm.get(DEAL, deal_id)
    if item is None:
        raise ApiError("", "Not found", 400)
    return item


def legacy_allowed(portal: Portal, caller: Caller, action: str, item: Any) -> Any:
    """crm.deal.* refuse with an empty code: {"error": "", "error_description": "Access denied"}."""
    if not portal.perms.allows(caller, action, DEAL, item):
        raise ApiError("", "Access denied", 400)
    return item


@method("crm.deal.get", "crm")
def deal_get(portal: Portal, caller: Caller, params: dict[str, Any]) -> Any:
    """One deal."""
    return legacy(portal, legacy_allowed(portal, caller, "read", deal_or_fail(portal, params)))


@method("crm.deal.add", "crm")
def deal_add(portal: Portal, caller: Caller, params: dict[str, Any]) -> Any:
    """Create a deal; returns its id."""
    raw = upper_keys(params).get("FIELDS", {})
    legacy_allowed(portal, caller, "add", None)
    fields = fields_from_legacy(portal, raw)
    if isinstance(raw, dict) and "CATEGORY_ID" in {k.upper() for k in raw}:
        fields["categoryId"] = next(v for k, v in raw.items() if k.upper() == "CATEGORY_ID")
    stage = fields.pop("stageId", None)
    item = portal.crm.add(DEAL, fields, caller.user_id)
    if stage and portal.crm.stage_ok(DEAL, item["categoryId"], stage):
        item["stageId"] = stage
    portal.run_stage(DEAL, item["id"], item["stageId"], caller.user_id)
    portal.item_event(DEAL, item["id"], "ADD", caller.user_id)
    return item["id"]


@method("crm.deal.update", "crm")
def deal_update(portal: Portal, caller: Caller, params: dict[str, Any]) -> Any:
    """Update a deal (a STAGE_ID change runs the stage's robots)."""
    item = legacy_allowed(portal, caller, "write", deal_or_fail(portal, params))
    fields = fields_from_legacy(portal, upper_keys(params).get("FIELDS"))
    stage = fields.pop("stageId", None)
    portal.crm.set_fields(item, {**fields, "updatedBy": caller.user_id})
    if stage and stage != item["stageId"]:
        portal.move_item(DEAL, item["id"], stage, caller.user_id, by_robot=False)
    else:
        portal.item_event(DEAL, item["id"], "UPDATE", caller.user_id)
    return True


@method("crm.deal.delete", "crm")
def deal_delete(portal: Portal, caller: Caller, params: dict[str, Any]) -> Any:
    """Delete a deal (its workflows end)."""
    item = legacy_allowed(portal, caller, "delete", deal_or_fail(portal, params))
    del portal.crm.items[DEAL][item["id"]]
    portal.engine.on_deleted(DEAL, item["id"])
    portal.item_event(DEAL, item["id"], "DELETE", caller.user_id)
    return True


@method("crm.deal.list", "crm")
def deal_list(portal: Portal, caller: Caller, params: dict[str, Any]) -> Any:
    """Deals with filter/order/select/start; a bare array."""
    up = upper_keys(params)
    rows = [
        legacy(portal, i)
        for i in portal.crm.items[DEAL].values()
        if portal.perms.allows(caller, "read", DEAL, i)
    ]
    flt = (
        {str(k).upper(): v for k, v in (up.get("FILTER") or {}).items()}
        if isinstance(up.get("FILTER"), dict)
        else up.get("FILTER")
    )
    rows = apply_filter(rows, flt)
    order = (
        {str(k).upper(): v for k, v in up["ORDER"].items()}
        if isinstance(up.get("ORDER"), dict)
        else None
    )
    rows = apply_order(rows, order, "ID")
    rows = [apply_select(r, up.get("SELECT"), ("ID",)) for r in rows]
    return page(rows, up.get("START"), portal.cfg.page_size)


def field_desc(name: str, ftype: str, ro: bool = False, req: bool = False) -> dict[str, Any]:
    """One entry of a *.fields answer."""
    return {
        "type": ftype,
        "isRequired": req,
        "isReadOnly": ro,
        "isImmutable": False,
        "isMultiple": ftype == "multi",
        "isDynamic": name.upper().startswith("UF_"),
        "title": name,
    }


def ftype(value: Any) -> str:
    """A field's Bitrix type from its value."""
    if isinstance(value, float):
        return "double"
    if isinstance(value, int) and not isinstance(value, bool):
        return "integer"
    return "datetime" if re.match(r"^\d{4}-\d\d-\d\dT", str(value)) else "string"


@method("crm.deal.fields", "crm")
def deal_fields(portal: Portal, caller: Caller, params: dict[str, Any]) -> Any:
    """Field descriptions of deals."""
    sample = portal.crm.blank(DEAL, 0, 1)
    out = {}
    for key, value in portal.crm.view(sample).items():
        if key not in HIDDEN:
            name = SPECIAL.get(key, upper_snake(key))
            out[name] = field_desc(name, ftype(value), name in READ_ONLY)
    return out


@method("crm.status.list", "crm")
def status_list(portal: Portal, caller: Caller, params: dict[str, Any]) -> Any:
    """Directory entries (stages) with filter/order."""
    up = upper_keys(params)
    flt = up.get("FILTER")
    flt = {str(k).upper(): v for k, v in flt.items()} if isinstance(flt, dict) else flt
    rows = apply_filter(portal.crm.statuses, flt)
    order = up.get("ORDER") if isinstance(up.get("ORDER"), dict) else {"SORT": "ASC"}
    rows = apply_order(rows, order, "ID")
    return page(rows, up.get("START"), portal.cfg.page_size)


@method("crm.category.list", "crm")
def category_list(portal: Portal, caller: Caller, params: dict[str, Any]) -> Any:
    """Pipelines of a type."""
    type_id = to_int(params.get("entityTypeId"))
    if type_id not in (DEAL, INVOICE):
        raise ApiError("NOT_FOUND", "Smart process not found", 400)
    cats = portal.crm.categories(type_id)
    return Paged({"categories": cats}, total=len(cats))


@method("crm.dealcategory.stage.list", "crm")
def dealcategory_stages(portal: Portal, caller: Caller, params: dict[str, Any]) -> Any:
    """Deprecated: stages of a deal pipeline."""
    cat = to_int(upper_keys(params).get("ID"), 0) or 0
    entity = "DEAL_STAGE" if cat == 0 else f"DEAL_STAGE_{cat}"
    return [
        {"NAME": r["NAME"], "SORT": r["SORT"], "STATUS_ID": r["STATUS_ID"]}
        for r in portal.crm.statuses
        if r["ENTITY_ID"] == entity
    ]
