"""REST methods crm.item.productrow.* and crm.item.payment.* (D7-style numeric errors)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .auth import Caller
from .crm import DEAL, INVOICE
from .filters import apply_filter, apply_order
from .registry import method
from .rest_crm_item import recalc
from .util import ApiError, iso, to_int

if TYPE_CHECKING:
    from .portal import Portal

OWNER = {"D": DEAL, "SI": INVOICE}
PAY_SYSTEMS = {1: "Inner account", 6: "Cash", 9: "Card terminal"}
PUBLIC = (
    "id",
    "accountNumber",
    "paid",
    "datePaid",
    "empPaidId",
    "paySystemId",
    "sum",
    "currency",
    "paySystemName",
)


def owner(
    portal: Portal, caller: Caller, action: str, otype: Any, oid: Any
) -> tuple[str, dict[str, Any]]:
    """Resolve ownerType/ownerId to an item the caller may read or change."""
    if otype in (None, "") or oid in (None, ""):
        raise ApiError(100, "Required parameters ownerType and ownerId are missing", 400)
    abbr = str(otype).upper()
    if abbr not in OWNER and abbr != "L" and not abbr.startswith("T") and abbr != "Q":
        raise ApiError("ENTITY_TYPE_NOT_SUPPORTED", f"Entity type {otype} is not supported", 400)
    item = portal.crm.get(OWNER.get(abbr, -1), oid)
    if item is None:
        raise ApiError("OWNER_NOT_FOUND", "Owner was not found", 400)
    portal.perms.check(caller, action, OWNER[abbr], item)
    return abbr, item


def make_row(portal: Portal, abbr: str, oid: int, f: dict[str, Any]) -> dict[str, Any]:
    """A product row with derived prices."""
    price = float(f.get("price") or 0)
    tax = float(f.get("taxRate") or 0)
    excl = price / (1 + tax / 100) if tax and str(f.get("taxIncluded", "N")) == "Y" else price
    return {
        "id": portal.next_id("row"),
        "ownerId": oid,
        "ownerType": abbr,
        "productId": to_int(f.get("productId"), 0),
        "productName": str(f.get("productName", "")),
        "price": price,
        "priceAccount": price,
        "priceExclusive": round(excl, 2),
        "priceNetto": round(excl, 2),
        "priceBrutto": price,
        "quantity": float(f.get("quantity") or 1),
        "discountTypeId": to_int(f.get("discountTypeId"), 2),
        "discountRate": float(f.get("discountRate") or 0),
        "discountSum": float(f.get("discountSum") or 0),
        "taxRate": f.get("taxRate"),
        "taxIncluded": str(f.get("taxIncluded", "N")),
        "customized": "Y",
        "measureCode": to_int(f.get("measureCode"), 796),
        "measureName": "pcs",
        "sort": to_int(f.get("sort"), 10),
        "xmlId": "",
        "type": 1,
    }


@method("crm.item.productrow.set", "crm")
def productrow_set(portal: Portal, caller: Caller, params: dict[str, Any]) -> Any:
    """Replace an owner's rows."""
    abbr, item = owner(portal, caller, "write", params.get("ownerType"), params.get("ownerId"))
    rows_in = params.get("productRows") or []
    if isinstance(rows_in, dict):
        rows_in = list(rows_in.values())
    rows = [make_row(portal, abbr, item["id"], r) for r in rows_in if isinstance(r, dict)]
    portal.rows[(abbr, item["id"])] = rows
    recalc(portal, item)
    return {"productRows": rows}


@method("crm.item.productrow.add", "crm")
def productrow_add(portal: Portal, caller: Caller, params: dict[str, Any]) -> Any:
    """Add one row."""
    f = params.get("fields") or {}
    abbr, item = owner(portal, caller, "write", f.get("ownerType"), f.get("ownerId"))
    row = make_row(portal, abbr, item["id"], f)
    portal.rows.setdefault((abbr, item["id"]), []).append(row)
    recalc(portal, item)
    return {"productRow": row}


@method("crm.item.productrow.list", "crm")
def productrow_list(portal: Portal, caller: Caller, params: dict[str, Any]) -> Any:
    """Rows filtered by =ownerType / =ownerId."""
    flt = params.get("filter") or {}
    if not isinstance(flt, dict):
        raise ApiError(100, "Required parameter filter is missing", 400)
    otype = flt.get("=ownerType", flt.get("ownerType"))
    oid = flt.get("=ownerId", flt.get("ownerId"))
    abbr, item = owner(portal, caller, "read", otype, oid)
    return {"productRows": list(portal.rows.get((abbr, item["id"]), []))}


@method("crm.item.productrow.getAvailableForPayment", "crm")
def productrow_available(portal: Portal, caller: Caller, params: dict[str, Any]) -> Any:
    """Rows not yet fully attached to payments."""
    abbr, item = owner(portal, caller, "read", params.get("ownerType"), params.get("ownerId"))
    used = {p["rowId"] for pay in portal.payments.values() for p in pay["_products"]}
    return {
        "productRows": [r for r in portal.rows.get((abbr, item["id"]), []) if r["id"] not in used]
    }


def pay_view(p: dict[str, Any]) -> dict[str, Any]:
    """The public payment object."""
    return {k: p[k] for k in PUBLIC}


def payment(portal: Portal, caller: Caller, action: str, params: dict[str, Any]) -> dict[str, Any]:
    """The payment named by id if the caller may `action` its document, or the numeric errors."""
    pid = to_int(params.get("id"))
    if pid is None:
        raise ApiError(100, 'Required parameter "id" is missing', 400)
    p = portal.payments.get(pid)
    if p is None:
        raise ApiError(0, "Payment not found", 400)
    portal.perms.check_payment(caller, action, p["_type"], portal.crm.get(p["_type"], p["_entity"]))
    return p


@method("crm.item.payment.add", "crm")
def payment_add(portal: Portal, caller: Caller, params: dict[str, Any]) -> Any:
    """Create a payment on a deal or smart invoice; returns its id."""
    t, eid = to_int(params.get("entityTypeId")), to_int(params.get("entityId"))
    if t is None or eid is None:
        raise ApiError(100, "Required parameters entityTypeId and entityId are missing", 400)
    if t not in (DEAL, INVOICE):
        raise ApiError(0, "payment creation not available", 400)
    item = portal.crm.get(t, eid)
    if item is None:
        raise ApiError(0, "Entity not found", 400)
    portal.perms.check_payment(caller, "write", t, item)
    if (t, eid) not in portal.orders:
        portal.orders[(t, eid)] = portal.next_id("order", 3650)
    order = portal.orders[(t, eid)]
    n = 1 + sum(1 for p in portal.payments.values() if (p["_type"], p["_entity"]) == (t, eid))
    amount = item["opportunity"] if portal.cfg.payment_sum == "opportunity" else 0
    pid = portal.next_id("payment", 1033)
    portal.payments[pid] = {
        "id": pid,
        "accountNumber": f"{order}/{n}",
        "paid": "N",
        "datePaid": None,
        "empPaidId": None,
        "paySystemId": 6,
        "sum": amount,
        "currency": item["currencyId"],
        "paySystemName": PAY_SYSTEMS[6],
        "_type": t,
        "_entity": eid,
        "_products": [],
    }
    return pid


@method("crm.item.payment.list", "crm")
def payment_list(portal: Portal, caller: Caller, params: dict[str, Any]) -> Any:
    """Payments of an entity (a plain array)."""
    t, eid = to_int(params.get("entityTypeId")), to_int(params.get("entityId"))
    if t is None or eid is None:
        raise ApiError(100, "Required parameters entityTypeId and entityId are missing", 400)
    if t in (DEAL, INVOICE):
        portal.perms.check_payment(caller, "read", t, portal.crm.get(t, eid))
    rows = [pay_view(p) for p in portal.payments.values() if (p["_type"], p["_entity"]) == (t, eid)]
    rows = apply_filter(rows, params.get("filter") or {})
    return apply_order(rows, params.get("order"), "id")


@method("crm.item.payment.get", "crm")
def payment_get(portal: Portal, caller: Caller, params: dict[str, Any]) -> Any:
    """One payment."""
    return pay_view(payment(portal, caller, "read", params))


def _set_paid(portal: Portal, p: dict[str, Any], paid: bool, user_id: int) -> None:
    """Mark paid/unpaid."""
    p["paid"] = "Y" if paid else "N"
    p["datePaid"] = iso(portal.clock.now()) if paid else None
    p["empPaidId"] = user_id if paid else None


@method("crm.item.payment.update", "crm")
def payment_update(portal: Portal, caller: Caller, params: dict[str, Any]) -> Any:
    """Only `paid` and `paySystemId` can change."""
    p = payment(portal, caller, "write", params)
    fields = params.get("fields")
    if not isinstance(fields, dict):
        raise ApiError(100, 'Required parameter "fields" is missing', 400)
    if "paySystemId" in fields:
        ps = to_int(fields["paySystemId"])
        if ps not in PAY_SYSTEMS:
            raise ApiError(0, "Pay system not found", 400)
        p["paySystemId"], p["paySystemName"] = ps, PAY_SYSTEMS[ps]
    if "paid" in fields:
        _set_paid(portal, p, str(fields["paid"]).upper() == "Y", caller.user_id)
    return True


@method("crm.item.payment.pay", "crm")
def payment_pay(portal: Portal, caller: Caller, params: dict[str, Any]) -> Any:
    """Mark paid."""
    _set_paid(portal, payment(portal, caller, "write", params), True, caller.user_id)
    return True


@method("crm.item.payment.unpay", "crm")
def payment_unpay(portal: Portal, caller: Caller, params: dict[str, Any]) -> Any:
    """Mark unpaid."""
    _set_paid(portal, payment(portal, caller, "write", params), False, caller.user_id)
    return True


@method("crm.item.payment.delete", "crm")
def payment_delete(portal: Portal, caller: Caller, params: dict[str, Any]) -> Any:
    """Delete a payment."""
    del portal.payments[payment(portal, caller, "write", params)["id"]]
    return True


@method("crm.item.payment.product.add", "crm")
def payment_product_add(portal: Portal, caller: Caller, params: dict[str, Any]) -> Any:
    """Attach a product row to a payment; the sum follows the attached rows [?]."""
    p = payment(portal, caller, "write", {"id": params.get("paymentId")})
    row_id, qty = to_int(params.get("rowId")), float(params.get("quantity") or 0)
    rows = [r for rs in portal.rows.values() for r in rs if r["id"] == row_id]
    if not rows:
        raise ApiError(0, "Product row not found", 400)
    pp = {"id": portal.next_id("payprod"), "rowId": row_id, "quantity": qty or rows[0]["quantity"]}
    p["_products"].append(pp)
    p["sum"] = round(
        sum(
            r["price"] * x["quantity"]
            for x in p["_products"]
            for r in [
                next(rr for rs in portal.rows.values() for rr in rs if rr["id"] == x["rowId"])
            ]
        ),
        2,
    )
    return pp["id"]


@method("crm.item.payment.product.list", "crm")
def payment_product_list(portal: Portal, caller: Caller, params: dict[str, Any]) -> Any:
    """Products attached to a payment."""
    return list(payment(portal, caller, "read", {"id": params.get("paymentId")})["_products"])
