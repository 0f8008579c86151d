"""Which `crm.item.payment` of a smart invoice we mark paid: one whose sum is what was charged.

`crm.item.payment.add` makes an empty payment (sum 0); its sum comes only from product items
attached with `crm.item.payment.product.add` (rows of the invoice), and `crm.item.payment.update`
cannot change it. So, once approved purchases cover the invoice, the report first reads the
invoice's product rows and payments (`pay_rows`, `pay_list`) and records a plan in `done`:

    {"pay_plan": {"id": 1033}}                    # pay this payment: its sum is the charge
    {"pay_plan": {"rows": [[12, 1.0], [13, 2.0]]}} # create one carrying these rows, check, pay
    {"pay_plan": {"none": "why"}}                  # nothing can carry the charge: pay none

An invoice's own unpaid payment of the right sum is reused. Rows are used only when together
they come to the charge. Otherwise (no rows, rows of another total, a new payment whose sum
differs) no payment is marked paid: the stage and the timeline still say what was charged, and
a paid payment of another sum is never made.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from bizproc_app.payments.crm_context import money, optional_id

INVOICE_TYPE_ID = 31
Commands = dict[str, tuple[str, dict[str, Any]]]


def commands(invoice_id: int, done: Mapping[str, Any], uncertain: set[str]) -> Commands:
    """The next commands that mark one of the invoice's payments paid (none when done)."""
    owner = {"entityTypeId": INVOICE_TYPE_ID, "entityId": invoice_id}
    plan = done.get("pay_plan")
    if "pay_add" in uncertain:  # did the lost batch create it? ask before creating another
        return {"find_pay": ("crm.item.payment.list", {**owner, "order": {"id": "DESC"}})}
    if not isinstance(plan, Mapping):
        rows = {"filter": {"=ownerType": "SI", "=ownerId": invoice_id}}
        return {
            "pay_rows": ("crm.item.productrow.list", rows),
            "pay_list": ("crm.item.payment.list", owner),
        }
    if "id" in plan:
        return {"pay": ("crm.item.payment.pay", {"id": plan["id"]})}
    if "rows" not in plan:
        return {}
    added = done.get("payment_added")
    if added:  # created earlier: read back what it came to
        return {"pay_check": ("crm.item.payment.get", {"id": added})}
    cmds: Commands = {"pay_add": ("crm.item.payment.add", owner)}
    for n, (row_id, quantity) in enumerate(plan["rows"]):
        params = {"paymentId": "$result[pay_add]", "rowId": row_id, "quantity": quantity}
        cmds[f"pay_row{n}"] = ("crm.item.payment.product.add", params)
    cmds["pay_check"] = ("crm.item.payment.get", {"id": "$result[pay_add]"})
    return cmds


def record(charged: int, done: dict[str, Any], uncertain: set[str], name: str, value: Any) -> bool:
    """Fold one answer of `commands` into `done`; False for names that are not ours."""
    if name == "pay_rows":
        rows = (value or {}).get("productRows") if isinstance(value, Mapping) else None
        done["pay_rows_seen"] = [_row(r) for r in rows or [] if isinstance(r, Mapping)]
    elif name == "pay_list":
        rows = done.pop("pay_rows_seen", None)
        if rows is not None:  # both reads landed: decide
            payments = _payments(value)
            done["pay_known"] = [p["id"] for p in payments]  # not ours, if a creation is lost
            done["pay_plan"] = plan(charged, rows, payments)
            if done["pay_plan"].get("paid"):  # paid already (a lost answer's pay ran)
                done["pay"], done["paid_payment"] = True, done["pay_plan"]["id"]
    elif name == "pay_add":
        done["payment_added"] = int(value)
    elif name == "pay_check":
        payment = value if isinstance(value, Mapping) else {}
        ours = optional_id(payment.get("id")) or done.get("payment_added")
        if _cents(payment.get("sum")) == charged:
            done["pay_plan"] = {"id": ours}
        else:
            got = _cents(payment.get("sum"))
            done["pay_plan"] = {"none": f"the new payment came to {got} cents, not {charged}"}
    elif name == "find_pay":
        known = set(done.get("pay_known", ()))
        found = [p for p in _payments(value) if p["id"] not in known]
        if found:  # a payment the invoice did not have: ours, created by the lost batch
            newest = max(found, key=lambda p: p["id"])
            done["payment_added"] = newest["id"]
            if newest["cents"] == charged:
                done["pay_plan"] = {"id": newest["id"]}
                if newest["paid"]:
                    done["pay"], done["paid_payment"] = True, newest["id"]
        uncertain.discard("pay_add")
    elif name == "pay":
        done["pay"] = True
        plan_ = done.get("pay_plan")
        if isinstance(plan_, Mapping) and "id" in plan_:
            done["paid_payment"] = plan_["id"]
    elif not name.startswith("pay_row"):
        return False
    return True


def plan(
    charged: int, rows: list[dict[str, Any]], payments: list[dict[str, Any]]
) -> dict[str, Any]:
    """Reuse a payment of the charged sum, else carry rows of that total, else pay none."""
    same = [p for p in payments if p["cents"] == charged]
    if same:
        chosen = min(same, key=lambda p: (not p["paid"], p["id"]))
        return (
            {"id": chosen["id"], "paid": chosen["paid"]} if chosen["paid"] else {"id": chosen["id"]}
        )
    total = sum(r["cents"] for r in rows)
    if rows and total == charged:
        return {"rows": [[r["id"], r["quantity"]] for r in rows]}
    if not rows:
        return {"none": "the invoice has no product rows to carry the payment"}
    return {"none": f"the invoice's product rows come to {total} cents, not the {charged} charged"}


def _row(row: Mapping[str, Any]) -> dict[str, Any]:
    price = money(row.get("price")) or Decimal("0")
    quantity = Decimal(str(row.get("quantity") or 0))
    cents = int((price * quantity * 100).quantize(Decimal("1")))
    return {"id": optional_id(row.get("id")), "quantity": float(quantity), "cents": cents}


def _payments(value: Any) -> list[dict[str, Any]]:
    out = []
    for p in value if isinstance(value, list) else []:
        if isinstance(p, Mapping) and optional_id(p.get("id")):
            paid = str(p.get("paid")) == "Y"
            out.append({"id": int(p["id"]), "cents": _cents(p.get("sum")), "paid": paid})
    return out


def _cents(value: Any) -> int | None:
    amount = money(value)
    return None if amount is None else int(amount * 100)
