"""What the payment screen reads and writes in the CRM: a deal, its invoices, a new invoice."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from bizproc_app.bitrix import BitrixClient
from bizproc_app.payments.crm import money


def _row(item: dict[str, Any], *, paid: bool) -> dict[str, Any]:
    return {
        "id": int(item["id"]),
        "title": str(item.get("title") or f"Invoice #{item['id']}"),
        "amount": f"{money(item.get('opportunity')) or Decimal('0.00'):.2f}",
        "currency": str(item.get("currencyId") or ""),
        "paid": paid,
    }


def _deal(item: Any) -> dict[str, Any] | None:
    if not isinstance(item, dict) or not item.get("id"):
        return None
    return {
        "id": int(item["id"]),
        "title": str(item.get("title") or f"Deal #{item['id']}"),
        "amount": f"{money(item.get('opportunity')) or Decimal('0.00'):.2f}",
        "currency": str(item.get("currencyId") or ""),
    }


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
    items = ((found.results.get("invoices") or {}).get("items")) or []
    orders = found.results.get("orders") or []
    return {
        "deal": _deal((found.results.get("deal") or {}).get("item")),
        "invoices": [_row(i, paid=i.get("stageSemanticId") == "S") for i in items],
        "orders": [
            {
                "id": int(o["id"]),
                "title": f"Payment {o.get('accountNumber') or o['id']}",
                "amount": f"{money(o.get('sum')) or Decimal('0.00'):.2f}",
                "currency": str(o.get("currency") or ""),
                "paid": str(o.get("paid")) == "Y",
            }
            for o in orders
            if isinstance(o, dict)
        ],
    }


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
    if "add" in found.errors:
        raise found.errors["add"]
    item = (found.results.get("add") or {}).get("item") or {}
    return {k: v for k, v in _row(item, paid=False).items() if k != "paid"}
