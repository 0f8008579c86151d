"""What the payment screen reads and writes in the CRM: a deal, its invoices, a new invoice."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from bizproc_app.bitrix import AccessDenied, BadRequest, BatchResult, BitrixClient, BitrixError
from bizproc_app.payments.crm_context import DocumentDenied, money


def _amount(value: Any) -> str:
    """A CRM money field as the screen shows it: "120.00" ("0.00" when blank)."""
    return f"{money(value) or Decimal('0.00'):.2f}"


def _row(item: dict[str, Any], *, paid: bool) -> dict[str, Any]:
    return {
        "id": int(item["id"]),
        "title": str(item.get("title") or f"Invoice #{item['id']}"),
        "amount": _amount(item.get("opportunity")),
        "currency": str(item.get("currencyId") or ""),
        "paid": paid,
    }


def _deal(item: Any) -> dict[str, Any] | None:
    if not isinstance(item, dict) or not item.get("id"):
        return None
    return {
        "id": int(item["id"]),
        "title": str(item.get("title") or f"Deal #{item['id']}"),
        "amount": _amount(item.get("opportunity")),
        "currency": str(item.get("currencyId") or ""),
    }


def _refuse_if_denied(found: BatchResult, *names: str) -> None:
    """Refuse the whole card if Bitrix24 refused the user any of these: never show half of it."""
    for name in names:
        problem = found.errors.get(name)
        if isinstance(problem, AccessDenied):
            raise DocumentDenied(f"Bitrix24 refused the {name} ({problem.code})")


def check_card(client: BitrixClient, kind: str, item_id: int) -> None:
    """DocumentDenied if Bitrix24 refuses the client's user this deal or invoice."""
    try:
        client.call("crm.item.get", {"entityTypeId": 2 if kind == "deal" else 31, "id": item_id})
    except AccessDenied as exc:
        raise DocumentDenied(f"Bitrix24 refused the {kind} ({exc.code})") from exc
    except BitrixError:
        return  # not found or unreachable: the screen says so itself when it loads


def read_deal(client: BitrixClient, deal_id: int) -> dict[str, Any]:
    """The deal, its smart invoices and its order payments, in one batch."""
    found = client.batch(
        {
            "deal": ("crm.item.get", {"entityTypeId": 2, "id": deal_id}),
            "invoices": (
                "crm.item.list",
                {"entityTypeId": 31, "filter": {"parentId2": deal_id}, "order": {"id": "ASC"}},
            ),
            "orders": ("crm.item.payment.list", {"entityTypeId": 2, "entityId": deal_id}),
        }
    )
    _refuse_if_denied(found, "deal", "invoices")
    items = ((found.results.get("invoices") or {}).get("items")) or []
    orders = found.results.get("orders") or []
    return {
        "deal": _deal((found.results.get("deal") or {}).get("item")),
        "invoices": [_row(i, paid=i.get("stageSemanticId") == "S") for i in items],
        "orders": [
            {
                "id": int(o["id"]),
                "title": f"Payment {o.get('accountNumber') or o['id']}",
                "amount": _amount(o.get("sum")),
                "currency": str(o.get("currency") or ""),
                "paid": str(o.get("paid")) == "Y",
            }
            for o in orders
            if isinstance(o, dict)
        ],
    }


def order_ids(client: BitrixClient, deal_id: int) -> set[int]:
    """The ids of the deal's order payments (as the client's user may see them)."""
    try:
        found = client.call("crm.item.payment.list", {"entityTypeId": 2, "entityId": deal_id})
    except BadRequest as exc:  # D7 style: code 0 is "Insufficient permissions" (or not found)
        raise DocumentDenied(f"Bitrix24 refused the deal's payments ({exc.code})") from exc
    rows = found.result if isinstance(found.result, list) else []
    return {int(o["id"]) for o in rows if isinstance(o, dict) and str(o.get("id", "")).isdigit()}


def read_invoice(client: BitrixClient, invoice_id: int) -> dict[str, Any]:
    """One smart invoice and its deal, in one batch."""
    found = client.batch(
        {
            "invoice": ("crm.item.get", {"entityTypeId": 31, "id": invoice_id}),
            "deal": (
                "crm.item.get",
                {"entityTypeId": 2, "id": "$result[invoice][item][parentId2]"},
            ),
        }
    )
    _refuse_if_denied(found, "invoice", "deal")
    if "invoice" in found.errors:
        raise LookupError("Bitrix24 could not read the invoice")
    item = (found.results.get("invoice") or {}).get("item") or {}
    return {
        "deal": _deal((found.results.get("deal") or {}).get("item")),
        "invoices": [_row(item, paid=item.get("stageSemanticId") == "S")],
    }


def add_invoice(
    client: BitrixClient, deal: dict[str, Any], title: str, amount: Decimal
) -> dict[str, Any]:
    """A smart invoice bound to the deal, with one product row of that name and amount."""
    fields = {
        "title": title,
        "parentId2": deal["id"],
        "opportunity": amount,
        "currencyId": deal["currency"],
        "isManualOpportunity": "Y",
    }
    row = {"productName": title, "price": amount, "quantity": 1}
    found = client.batch(
        {
            "add": ("crm.item.add", {"entityTypeId": 31, "fields": fields}),
            "rows": (
                "crm.item.productrow.set",
                {"ownerType": "SI", "ownerId": "$result[add][item][id]", "productRows": [row]},
            ),
        }
    )
    _refuse_if_denied(found, "add")
    if "add" in found.errors:
        raise found.errors["add"]
    item = (found.results.get("add") or {}).get("item") or {}
    return {k: v for k, v in _row(item, paid=False).items() if k != "paid"}
