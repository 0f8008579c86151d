"""Read what a payment needs from Bitrix24 in one batch, proving the robot call genuine too."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from bizproc_app.bitrix import AccessDenied, BitrixClient
from bizproc_app.payments.service import CrmContext

_DOC = re.compile(r"^(DEAL|SMART_INVOICE)_(\d+)$")


class CallForged(Exception):
    """Bitrix24 refused the call's event_token: the call did not come from a workflow."""


def document_ids(document_id: list[str]) -> tuple[int | None, int | None]:
    """(deal id, invoice id) of a robot's document, e.g. ['crm', 'CCrmDocumentDeal', 'DEAL_5']."""
    match = _DOC.match(str(document_id[2] if len(document_id) > 2 else "").upper())
    if not match:
        return None, None
    number = int(match.group(2))
    return (number, None) if match.group(1) == "DEAL" else (None, number)


def _money(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)).quantize(Decimal("0.01")) if value not in (None, "") else None
    except InvalidOperation:
        return None


def _success_stage(stages: Any) -> str | None:
    for stage in stages if isinstance(stages, list) else []:
        extra = stage.get("EXTRA") or {}
        if stage.get("SEMANTICS") == "S" or (
            isinstance(extra, dict) and extra.get("SEMANTICS") == "success"
        ):
            return str(stage.get("STATUS_ID"))
    return None


def read_context(
    client: BitrixClient,
    *,
    event_token: str | None,
    deal_id: int | None,
    invoice_id: int | None,
    order_payment_id: int | None,
) -> CrmContext:
    """One batch: prove the event_token (when given), read the invoice/order/deal being paid."""
    commands: dict[str, tuple[str, dict[str, Any]]] = {}
    if event_token:
        commands["verify"] = (
            "bizproc.activity.log",
            {"EVENT_TOKEN": event_token, "LOG_MESSAGE": "POS payments: request received"},
        )
    if invoice_id:
        commands["invoice"] = ("crm.item.get", {"entityTypeId": 31, "id": invoice_id})
        commands["payments"] = (
            "crm.item.payment.list",
            {"entityTypeId": 31, "entityId": invoice_id},
        )
        commands["stages"] = (
            "crm.status.list",
            {"filter": {"ENTITY_ID": "SMART_INVOICE_STAGE_$result[invoice][item][categoryId]"}},
        )
    elif order_payment_id:
        commands["order"] = ("crm.item.payment.get", {"id": order_payment_id})
    if deal_id and not invoice_id:
        commands["deal"] = ("crm.item.get", {"entityTypeId": 2, "id": deal_id})
    found = client.batch(commands) if commands else None
    errors = found.errors if found else {}
    if "verify" in errors:
        if isinstance(errors["verify"], AccessDenied):
            raise CallForged("Bitrix24 refused the event_token")
        raise errors["verify"]
    for name in ("invoice", "order", "deal"):
        if name in errors:
            problem = errors[name]
            raise LookupError(f"Bitrix24 could not read the {name}: {problem.code or problem}")
    results = found.results if found else {}
    if invoice_id:
        item = (results.get("invoice") or {}).get("item") or {}
        payments = results.get("payments") or []
        first = payments[0] if isinstance(payments, list) and payments else {}
        return CrmContext(
            amount=_money(item.get("opportunity")),
            currency=item.get("currencyId"),
            paid=any(str(p.get("paid")) == "Y" for p in payments if isinstance(p, dict)),
            deal_id=_int(item.get("parentId2")) or deal_id,
            invoice_id=invoice_id,
            bitrix_payment_id=_int(first.get("id")) if isinstance(first, dict) else None,
            success_stage=_success_stage(results.get("stages")),
            title=str(item.get("title") or f"Invoice #{invoice_id}"),
        )
    if order_payment_id:
        order = results.get("order") or {}
        return CrmContext(
            amount=_money(order.get("sum")),
            currency=order.get("currency"),
            paid=str(order.get("paid")) == "Y",
            deal_id=deal_id,
            order_payment_id=order_payment_id,
            bitrix_payment_id=order_payment_id,
            title=f"Payment {order.get('accountNumber') or order_payment_id}",
        )
    deal = (results.get("deal") or {}).get("item") or {}
    return CrmContext(
        amount=_money(deal.get("opportunity")),
        currency=deal.get("currencyId"),
        deal_id=deal_id,
        title=str(deal.get("title") or (f"Deal #{deal_id}" if deal_id else "")),
    )


def _int(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "", 0, "0") else None
    except (TypeError, ValueError):
        return None


def _row(item: dict[str, Any], *, paid: bool) -> dict[str, Any]:
    return {
        "id": int(item["id"]),
        "title": str(item.get("title") or f"Invoice #{item['id']}"),
        "amount": f"{_money(item.get('opportunity')) or Decimal('0.00'):.2f}",
        "currency": str(item.get("currencyId") or ""),
        "paid": paid,
    }


def _deal(item: Any) -> dict[str, Any] | None:
    if not isinstance(item, dict) or not item.get("id"):
        return None
    return {
        "id": int(item["id"]),
        "title": str(item.get("title") or f"Deal #{item['id']}"),
        "amount": f"{_money(item.get('opportunity')) or Decimal('0.00'):.2f}",
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
                "amount": f"{_money(o.get('sum')) or Decimal('0.00'):.2f}",
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
