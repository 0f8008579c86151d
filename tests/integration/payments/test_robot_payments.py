"""A robot's payment end to end: both simulators over HTTP, real worker and scheduler processes."""

from __future__ import annotations

from tests.helpers.waiting import wait_for
from tests.integration.payments import flows
from tests.integration.payments.conftest import ledger, payment_of


def test_approved_invoice_payment_is_charged_once_and_recorded_once(
    shop, ctl, pinpads, processes, served_app
) -> None:
    invoice_id = flows.invoice(ctl, shop["deal_id"], "10.00")
    ctl("DELETE", "requests")
    wf = ctl(
        "POST",
        "robots/run",
        {
            "id": shop["deal_id"],
            "code": "linkly_pos_payment",
            "properties": {"invoice_id": str(invoice_id), "user": "user_1"},
        },
    )
    values = flows.finished(ctl, wf["id"], 40)
    assert values["status"] == "approved", values
    assert values["approved"] == "Y"  # a Bitrix24 bool, stored as sent
    assert values["amount"] in ("10.00", 10.0, "10")
    charges = [e for e in ledger(pinpads) if e["txnRef"] == values["txn_ref"]]
    assert len(charges) == 1 and charges[0]["amountCents"] == 1000
    # The workflow hears first; the report's own bookkeeping commits a moment later.
    payment = wait_for(
        lambda: (p := payment_of(served_app, id=values["payment_id"])).report_state == "done" and p,
        10,
        "the report to be recorded",
    )
    assert payment.state == "approved"
    crm = ctl("GET", "crm")
    invoice = next(i for i in crm["invoices"] if int(i["id"]) == invoice_id)
    assert invoice["stageId"].endswith(":P"), invoice["stageId"]
    paid = [p for p in crm["payments"] if int(p.get("entityId", 0)) == invoice_id]
    # Paid by a payment carrying the invoice's row: its sum is the charge, not an empty 0.
    assert paid and all(p["paid"] == "Y" and p["sum"] == 10 for p in paid), paid
    comments = [c for c in crm["comments"] if payment.id in c["COMMENT"]]
    assert len(comments) == 2  # one on the deal, one on the invoice
    counts = ctl("GET", "requests")
    print("REST requests per approved invoice payment:", counts)
