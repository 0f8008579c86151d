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
