"""Send to POS: charge an amount on a Linkly PIN pad."""

from __future__ import annotations

from activities.common import Definition, prop

SEND_TO_POS = Definition(
    robot_code="linkly_pos_payment",
    activity_code="linkly_pos_payment_bp",
    name="Send to POS",
    description="Sends the amount to a Linkly PIN pad and waits for the card payment's result.",
    properties={
        "terminal": prop(
            "Terminal", "string", description="Name or id; empty: the user's assigned terminal"
        ),
        "user": prop(
            "User",
            "user",
            description="Whose terminal to use",
            default="{=Document:ASSIGNED_BY_ID}",
        ),
        "amount": prop(
            "Amount", "double", description="Empty: the invoice amount, else the deal amount"
        ),
        "currency": prop("Currency", "string", description="Empty: the document's currency"),
        "invoice_id": prop("Smart invoice ID", "int", description="The invoice being paid"),
        "order_payment_id": prop(
            "Order payment ID", "int", description="A payment of the deal's order being paid"
        ),
    },
)
