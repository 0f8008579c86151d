"""Refund via POS: refund an approved payment on a Linkly PIN pad."""

from __future__ import annotations

from activities.common import Definition, prop

REFUND_VIA_POS = Definition(
    robot_code="linkly_pos_refund",
    activity_code="linkly_pos_refund_bp",
    name="Refund via POS",
    description="Refunds an approved POS payment on a Linkly PIN pad and waits for the result.",
    properties={
        "payment_id": prop("Payment ID", "string", description="This app's payment id"),
        "invoice_id": prop(
            "Smart invoice ID", "int", description="Refund this invoice's approved payment"
        ),
        "amount": prop("Amount", "double", description="Empty: the refundable remainder"),
        "terminal": prop(
            "Terminal", "string", description="Name or id; empty: the user's assigned terminal"
        ),
        "user": prop(
            "User",
            "user",
            description="Whose terminal to use",
            default="{=Document:ASSIGNED_BY_ID}",
        ),
    },
)
