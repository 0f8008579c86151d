"""The invoice payment marked paid carries the invoice's product rows: its sum is the charge.

On a real portal `crm.item.payment.add` makes an empty payment whose sum only product items
(`crm.item.payment.product.add`) can fill; the simulator does the same (issue 14, item 1).
"""

from __future__ import annotations

from typing import Any

import requests

from tests.helpers.bitrix24 import invoice_payments
from tests.integration.payments.flows import Ctl, outcome, settled

ROWS = [
    {"productName": "Flat white", "price": 2.5, "quantity": 2},
    {"productName": "Carrot cake", "price": 5, "quantity": 1},
]


def _invoice(ctl: Ctl, deal_id: int, rows: list[dict[str, Any]]) -> int:
    # A manual amount: the rows need not add up to it (as on the portal's own form).
    fields = {"title": "Coffee and cake", "opportunity": 10, "currencyId": "AUD"}
    fields["isManualOpportunity"] = "Y"
    made = ctl("POST", "invoices", {"fields": fields, "rows": rows, "deal_id": deal_id})
    return int(made["id"])


def _pay(ctl: Ctl, shop: dict[str, Any], served_app: Any, invoice_id: int) -> Any:
    values = outcome(ctl, shop["deal_id"], {"invoice_id": str(invoice_id), "user": "user_1"})
    assert values["status"] == "approved" and values["amount"] == "10.00", values
    return settled(served_app, values["payment_id"])


def test_the_paid_payment_carries_the_invoices_rows_and_comes_to_the_charge(
    shop, ctl, b24, pinpads, processes, served_app
) -> None:
    invoice_id = _invoice(ctl, shop["deal_id"], ROWS)
    payment = _pay(ctl, shop, served_app, invoice_id)

    [paid] = invoice_payments(ctl, invoice_id)
    assert paid["paid"] == "Y" and paid["sum"] == 10
    rows = {r["id"]: r for r in ctl("GET", "crm")["product_rows"] if r["ownerId"] == invoice_id}
    assert sorted((rows[p["rowId"]]["productName"], p["quantity"]) for p in paid["products"]) == [
        ("Carrot cake", 1.0),
        ("Flat white", 2.0),
    ]
    assert payment.report_done["paid_payment"] == paid["id"]
    page = requests.get(f"{b24.urls['portal']}/crm/deal/details/{shop['deal_id']}/", timeout=10)
    assert f'data-payment="{paid["id"]}" data-sum="10.00" data-paid="Y"' in page.text


def test_an_invoice_whose_rows_cannot_carry_the_charge_gets_no_paid_payment(
    shop, ctl, pinpads, processes, served_app
) -> None:
    no_rows = _invoice(ctl, shop["deal_id"], [])
    other_total = _invoice(
        ctl, shop["deal_id"], [{"productName": "Tea", "price": 3, "quantity": 1}]
    )
    for invoice_id, why in (
        (no_rows, "the invoice has no product rows to carry the payment"),
        (other_total, "the invoice's product rows come to 300 cents, not the 1000 charged"),
    ):
        payment = _pay(ctl, shop, served_app, invoice_id)
        assert payment.report_done["pay_plan"] == {"none": why}
        assert all(p["paid"] == "N" for p in invoice_payments(ctl, invoice_id))
        # The charge is still recorded: the stage moved and the timeline says what was paid.
        invoice = next(i for i in ctl("GET", "crm")["invoices"] if i["id"] == invoice_id)
        assert invoice["stageId"].endswith(":P")
