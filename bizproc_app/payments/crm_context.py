"""Read what a payment needs from Bitrix24 in one batch, proving the robot call genuine too."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from redis import Redis

from bizproc_app.bitrix import (
    AccessDenied,
    BadRequest,
    BatchResult,
    BitrixClient,
    BitrixError,
    prefixed,
)
from bizproc_app.bitrix.batch import Command
from bizproc_app.payments.starting import CrmContext

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


def money(value: Any) -> Decimal | None:
    """A CRM amount as Decimal with 2 places; None when absent or not a number."""
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


@dataclass(frozen=True)
class ContextRead:
    """What to read for one payment (and the robot call's event_token to prove)."""

    event_token: str | None
    deal_id: int | None
    invoice_id: int | None
    order_payment_id: int | None


class StageCache:
    """Success stages of smart-invoice categories, per portal, shared through Redis for a while.

    Stages rarely change; caching them saves one batch command per payment. "" means the
    category has no success stage.
    """

    def __init__(self, redis: Redis, portal_id: int, ttl: int = 600) -> None:
        self._redis, self._key, self._ttl = redis, f"stages:{portal_id}", ttl
        self._loaded: dict[str, str] | None = None  # read from Redis once per instance (a drain)

    def known(self) -> dict[str, str]:
        """Category id -> success stage ("" for none)."""
        if self._loaded is None:
            found = cast("dict[bytes, bytes]", self._redis.hgetall(self._key))
            self._loaded = {k.decode(): v.decode() for k, v in found.items()}
        return dict(self._loaded)

    def remember(self, stages: Mapping[str, str]) -> None:
        """Add categories' success stages."""
        if stages:
            self._redis.hset(self._key, mapping=dict(stages))
            self._redis.expire(self._key, self._ttl)
            self._loaded = {**(self._loaded or {}), **stages}


def context_commands(
    read: ContextRead, *, stages: bool = True, invoice: bool = True
) -> dict[str, Command]:
    """The batch commands that prove the call and read the document being paid.

    `invoice=False` leaves out the invoice itself (read for several payments at once).
    """
    commands: dict[str, Command] = {}
    if read.event_token:
        commands["verify"] = (
            "bizproc.activity.log",
            {"EVENT_TOKEN": read.event_token, "LOG_MESSAGE": "POS payments: request received"},
        )
    if read.invoice_id:
        if invoice:
            commands["invoice"] = ("crm.item.get", {"entityTypeId": 31, "id": read.invoice_id})
        commands["payments"] = (
            "crm.item.payment.list",
            {"entityTypeId": 31, "entityId": read.invoice_id},
        )
        if stages:
            commands["stages"] = (
                "crm.status.list",
                {"filter": {"ENTITY_ID": "SMART_INVOICE_STAGE_$result[invoice][item][categoryId]"}},
            )
    elif read.order_payment_id:
        commands["order"] = ("crm.item.payment.get", {"id": read.order_payment_id})
    if read.deal_id and not read.invoice_id:
        commands["deal"] = ("crm.item.get", {"entityTypeId": 2, "id": read.deal_id})
    return commands


class DocumentDenied(LookupError):
    """Bitrix24 refused to show the document to whoever asked (their CRM permissions)."""


def parse_context(read: ContextRead, found: BatchResult) -> CrmContext:
    """Turn one payment's answers into a CrmContext; raise CallForged or LookupError."""
    errors = found.errors
    if "verify" in errors:
        if isinstance(errors["verify"], AccessDenied):
            raise CallForged("Bitrix24 refused the event_token")
        raise errors["verify"]
    for name in ("invoice", "order", "deal"):
        if name in errors:
            problem = errors[name]
            if isinstance(problem, AccessDenied):
                raise DocumentDenied(f"Bitrix24 refused to show the {name} ({problem.code})")
            raise LookupError(f"Bitrix24 could not read the {name}: {problem.code or problem}")
    results = found.results
    deal_id, invoice_id = read.deal_id, read.invoice_id
    if invoice_id:
        item = (results.get("invoice") or {}).get("item") or {}
        payments = results.get("payments") or []
        first = payments[0] if isinstance(payments, list) and payments else {}
        return CrmContext(
            amount=money(item.get("opportunity")),
            currency=item.get("currencyId"),
            paid=any(str(p.get("paid")) == "Y" for p in payments if isinstance(p, dict)),
            deal_id=optional_id(item.get("parentId2")) or deal_id,
            invoice_id=invoice_id,
            bitrix_payment_id=optional_id(first.get("id")) if isinstance(first, dict) else None,
            success_stage=_success_stage(results.get("stages")),
            title=str(item.get("title") or f"Invoice #{invoice_id}"),
        )
    if read.order_payment_id:
        order = results.get("order") or {}
        return CrmContext(
            amount=money(order.get("sum")),
            currency=order.get("currency"),
            paid=str(order.get("paid")) == "Y",
            deal_id=deal_id,
            order_payment_id=read.order_payment_id,
            bitrix_payment_id=read.order_payment_id,
            title=f"Payment {order.get('accountNumber') or read.order_payment_id}",
        )
    deal = (results.get("deal") or {}).get("item") or {}
    return CrmContext(
        amount=money(deal.get("opportunity")),
        currency=deal.get("currencyId"),
        deal_id=deal_id,
        title=str(deal.get("title") or (f"Deal #{deal_id}" if deal_id else "")),
    )


def read_contexts(
    client: BitrixClient, reads: Mapping[str, ContextRead], stages: StageCache | None = None
) -> dict[str, CrmContext | Exception]:
    """Read several payments' documents in one batch request (keys: letters and digits).

    With a warm stage cache the stages are not read (a category it lacks costs one more
    request, shared by every payment of the batch), and the invoices of several payments are
    read with one `crm.item.list` command.
    """
    known = stages.known() if stages else {}
    cold = not known
    invoice_ids = sorted({r.invoice_id for r in reads.values() if r.invoice_id})
    shared = not cold and len(invoice_ids) > 1 and all(reads)
    commands: dict[str, Command] = {}
    if shared:
        commands["invoices"] = (
            "crm.item.list",
            {"entityTypeId": 31, "filter": {"@id": invoice_ids}},
        )
    for key, read in reads.items():
        own = context_commands(read, stages=cold, invoice=not shared)
        commands.update(prefixed(f"{key}_" if key else "", own))
    found = client.batch(commands) if commands else BatchResult()
    listed = _listed_invoices(found) if shared else {}
    out: dict[str, CrmContext | Exception] = {}
    categories: dict[str, str] = {}
    for key, read in reads.items():
        part = found.part(f"{key}_" if key else "")
        if shared and read.invoice_id:
            _put_invoice(part, found, listed.get(read.invoice_id))
        try:
            context = parse_context(read, part)
        except (CallForged, LookupError, BitrixError) as exc:
            out[key] = exc
            continue
        out[key] = context
        item = (part.results.get("invoice") or {}).get("item") or {}
        if read.invoice_id and item.get("categoryId") is not None:
            categories[key] = str(item["categoryId"])
            if cold:
                known[categories[key]] = context.success_stage or ""
    missing = {c for c in categories.values() if c not in known}
    if missing:
        known.update(_read_stages(client, missing))
    if stages:
        stages.remember(known)
    for key, category in categories.items():
        made = out[key]
        if isinstance(made, CrmContext) and category in known:
            out[key] = replace(made, success_stage=known[category] or None)
    return out


def _listed_invoices(found: BatchResult) -> dict[int, dict[str, Any]]:
    """The shared `crm.item.list` answer, by invoice id."""
    items = (found.results.get("invoices") or {}).get("items") or []
    return {int(i["id"]): i for i in items if isinstance(i, dict) and optional_id(i.get("id"))}


def _put_invoice(part: BatchResult, found: BatchResult, item: dict[str, Any] | None) -> None:
    """Give one payment's part of the answer its invoice, as if read with crm.item.get."""
    if "invoices" in found.errors:
        part.errors["invoice"] = found.errors["invoices"]
    elif item is None:
        part.errors["invoice"] = BadRequest("NOT_FOUND", "no such invoice", 404, "crm.item.list")
    else:
        part.results["invoice"] = {"item": item}


def _read_stages(client: BitrixClient, categories: set[str]) -> dict[str, str]:
    """The success stage of each category, in one batch."""
    found = client.batch(
        {
            f"s{c}": ("crm.status.list", {"filter": {"ENTITY_ID": f"SMART_INVOICE_STAGE_{c}"}})
            for c in sorted(categories)
        }
    )
    return {
        c: _success_stage(found.results.get(f"s{c}")) or ""
        for c in categories
        if f"s{c}" in found.results
    }


def read_context(
    client: BitrixClient,
    *,
    event_token: str | None,
    deal_id: int | None,
    invoice_id: int | None,
    order_payment_id: int | None,
) -> CrmContext:
    """One batch: prove the event_token (when given), read the invoice/order/deal being paid."""
    read = ContextRead(event_token, deal_id, invoice_id, order_payment_id)
    found = read_contexts(client, {"": read})[""]
    if isinstance(found, Exception):
        raise found
    return found


def optional_id(value: Any) -> int | None:
    """A Bitrix24 id, or None for absent, zero and junk."""
    try:
        return int(value) if value not in (None, "", 0, "0") else None
    except (TypeError, ValueError):
        return None
