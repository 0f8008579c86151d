"""What a payment's outcome says: the workflow's return values, the comment, the message."""

from __future__ import annotations

from typing import Any

from bizproc_app.linkly import format_cents
from bizproc_app.models import Payment

TITLES = {
    "approved": "approved",
    "declined": "declined",
    "cancelled": "cancelled",
    "failed": "failed",
    "unknown": "UNKNOWN: we are checking with Linkly",
}


def money(cents: int, currency: str) -> str:
    """10.00 AUD, from integer cents."""
    return f"{format_cents(cents)} {currency}"


def status_of(payment: Payment) -> str:
    """The contract's status for a payment that has an outcome to tell (or is unknown)."""
    return payment.state if payment.is_final else "unknown"


def return_values(payment: Payment) -> dict[str, Any]:
    """The return properties of Send to POS / Refund via POS (activities.RETURN_PROPERTIES)."""
    result = payment.result or {}
    status = status_of(payment)
    return {
        "status": status,
        "approved": "Y" if status == "approved" else "N",  # a Bitrix24 bool is Y/N
        "response_code": str(result.get("response_code") or ""),
        "response_text": str(result.get("response_text") or ""),
        "txn_ref": payment.txn_ref or "",
        "auth_code": str(result.get("auth_code") or ""),
        "rrn": str(result.get("rrn") or ""),
        "ref": str(result.get("ref") or ""),
        "card_type": str(result.get("card_type") or ""),
        "account_type": str(result.get("account") or ""),
        "masked_pan": str(result.get("pan") or ""),
        "amount": format_cents(payment.amount_cents),
        "payment_id": payment.id,
        "receipt": payment.receipt or "",
        "error": payment.error if status != "approved" else "",
    }


def comment(payment: Payment) -> str:
    """The timeline comment; it names the payment id so a retried report can find it."""
    values = return_values(payment)
    what = "Card refund" if payment.kind == "refund" else "Card payment"
    lines = [f"{what} {money(payment.amount_cents, payment.currency)}: {TITLES[values['status']]}"]
    if payment.kind == "refund" and payment.context.get("workflow_id"):
        lines.append(f"Refund by workflow {payment.context['workflow_id']}")
    if values["card_type"] or values["masked_pan"]:
        lines.append(
            f"Card: {values['card_type']} {values['masked_pan']} {values['account_type']}".rstrip()
        )
    if values["auth_code"]:
        lines.append(f"Auth code: {values['auth_code']}, RRN: {values['rrn']}")
    if values["ref"]:
        lines.append(f"Host reference: {values['ref']}")
    if values["status"] not in ("approved", "unknown") and values["error"]:
        lines.append(f"Reason: {values['error']}")
    lines.append(f"Reference: {values['txn_ref']} (POS payment {payment.id})")
    if payment.receipt:
        lines += ["", payment.receipt]
    return "\n".join(lines)


def message(payment: Payment, *, late: bool) -> str:
    """The im.notify text for an unknown outcome, its late resolution, or a conflict."""
    what = "refund" if payment.kind == "refund" else "payment"
    where = f" (deal {payment.deal_id})" if payment.deal_id else ""
    amount = money(payment.amount_cents, payment.currency)
    conflict = payment.context.get("conflict") or {}
    if conflict.get("source") == "amount":
        approved = money(int(conflict.get("approved_cents") or 0), payment.currency)
        return (
            f"POS {what} {amount}{where}: Linkly approved {approved} instead. The books follow "
            f"what was approved; check the receipt. Payment {payment.id}."
        )
    if conflict:
        got = conflict.get("received")
        return (
            f"POS {what} {amount}{where}: Linkly reported '{got}' after we recorded "
            f"'{payment.state}'. Check the terminal's receipts. Payment {payment.id}."
        )
    if payment.context.get("late_approval"):
        was = payment.context["late_approval"].get("was")
        double = payment.context["late_approval"].get("double")
        return (
            f"POS {what} {amount}{where}: Linkly APPROVED it after we had recorded '{was}': the "
            f"card was charged and the CRM now shows it."
            + (" The invoice was paid again meanwhile: refund one of them." if double else "")
            + f" Payment {payment.id}."
        )
    if payment.attention_at is not None and not payment.is_final:
        return (
            f"POS {what} {amount}{where}: Linkly never gave a result, and we stopped asking. "
            f"Check the PIN pad's receipts, then decide it under Needs attention in the app's "
            f"settings (or: flask pos resolve --payment {payment.id}). Payment {payment.id}."
        )
    if payment.context.get("resolution"):
        how = payment.context["resolution"]
        return (
            f"POS {what} {amount}{where}: {how.get('by')} decided it was {how.get('as')} "
            f"({how.get('reason')}). Payment {payment.id}."
        )
    if not late:
        return (
            f"POS {what} {amount}{where}: the result is not known yet. Do not charge the card "
            f"again; check the PIN pad or the last receipt. We keep checking. Payment {payment.id}."
        )
    final = status_of(payment)
    return f"POS {what} {amount}{where}: the result is now known: {final}. Payment {payment.id}."
