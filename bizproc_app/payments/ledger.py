"""What our payments paid on one CRM document (an invoice, an order payment or a deal's amount).

An invoice is paid (and moved to its success stage) only when approved purchases net of approved
refunds cover its amount; it is un-paid when refunds bring that back to zero. Refunds still
running never count. The report asks here, in the order its payments' reports land.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bizproc_app.models import Payment, PaymentState


def settled_cents(payment: Payment) -> int:
    """What an approved payment moved: Linkly's approved amount, else what we asked."""
    charged = (payment.result or {}).get("amount_cents")
    return int(charged) if isinstance(charged, int) and charged > 0 else payment.amount_cents


def document_filter(portal_id: int, invoice_id: int | None, order_id: int | None,
                    deal_id: int | None) -> list[Any]:  # fmt: skip
    """The WHERE clauses selecting the payments made on one document."""
    if invoice_id:
        return [Payment.portal_id == portal_id, Payment.invoice_id == invoice_id]
    if order_id:
        return [Payment.portal_id == portal_id, Payment.order_payment_id == order_id]
    if deal_id:
        return [
            Payment.portal_id == portal_id,
            Payment.deal_id == deal_id,
            Payment.invoice_id.is_(None),
            Payment.order_payment_id.is_(None),
        ]
    return [Payment.id.is_(None)]  # no document: nothing to share it with


@dataclass(frozen=True)
class Document:
    """Our approved money on one document, and what Bitrix24 was told about it."""

    purchased: int  # approved purchases, in cents
    refunded: int  # approved refunds, in cents
    paid_in_crm: bool  # our last pay/un-pay that landed was a pay
    paid_payment_id: int | None  # the crm.item.payment we marked paid
    # A purchase covered the invoice but no payment could carry its sum (see invoice_payment):
    # the stage moved without a paid payment, so a full refund moves it back without an un-pay.
    closed_unpaid: bool = False

    @property
    def net(self) -> int:
        """Approved purchases less approved refunds."""
        return self.purchased - self.refunded


def document_of(session: Session, payment: Payment) -> Document:
    """The payments made on the payment's document, summed."""
    where = document_filter(
        payment.portal_id, payment.invoice_id, payment.order_payment_id, payment.deal_id
    )
    stmt = select(Payment).where(*where).order_by(Payment.created_at)
    # Rows other code changed with Core statements since they were loaded: read them afresh.
    rows = list(session.scalars(stmt.execution_options(populate_existing=True)))
    if payment not in rows:
        rows.append(payment)
    # Every approved purchase counts (an earlier one may end after a later one); refunds count
    # up to this payment, so a purchase reports what it paid before any later refund.
    mark = payment.created_at
    purchased = refunded = pays = unpays = 0
    paid_id: int | None = None
    closed_unpaid = False
    for row in rows:
        done = row.report_done or {}
        if row.kind == "purchase":
            if row.state == PaymentState.APPROVED:
                purchased += settled_cents(row)
            if done.get("pay") is True:
                pays += 1
                paid_id = (
                    _int(done.get("paid_payment"))
                    or _int(row.context.get("bitrix_payment_id"))
                    or _int(done.get("payment_added"))
                )
            plan = done.get("pay_plan")
            if isinstance(plan, dict) and "none" in plan and done.get("stage") is True:
                closed_unpaid = True
        elif row.state == PaymentState.APPROVED and (
            row is payment or mark is None or row.created_at is None or row.created_at <= mark
        ):
            refunded += settled_cents(row)
        if row.kind == "refund" and done.get("unpay") is True:
            unpays += 1
    return Document(purchased, refunded, pays > unpays, paid_id, closed_unpaid)


def target_cents(payment: Payment) -> int | None:
    """What the purchase's document asks for (its amount when the purchase started), if any."""
    target = (payment.context or {}).get("target_cents")
    return target if isinstance(target, int) else None


def due_cents(session: Session, payment: Payment) -> int | None:
    """What is still due on the purchase's document (negative: paid over); None without one."""
    target = target_cents(payment)
    return None if target is None else target - document_of(session, payment).net


def _int(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None
