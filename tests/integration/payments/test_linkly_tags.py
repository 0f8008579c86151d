"""What Linkly's own samples send and keep: the core PAD tags out, the host reference back.

The Linkly simulator refuses a sale without OPR/AMT/PCM (its strict default), and returns a host
reference (REF) that the app keeps with the payment, shows on the screen, writes on the timeline
and returns to the workflow (`ref`).
"""

from __future__ import annotations

from tests.integration.payments.flows import (
    REFUND,
    comments_of,
    invoice,
    outcome,
    settled,
)
from tests.integration.payments.test_ui_api import _open
from tests.payment_fixtures import ledger


def test_a_robot_sale_and_its_refund_carry_the_core_tags_and_keep_the_host_reference(
    shop, ctl, pinpads, processes, served_app
) -> None:
    invoice_id = invoice(ctl, shop["deal_id"], "12.00")
    values = outcome(ctl, shop["deal_id"], {"invoice_id": str(invoice_id), "user": "user_1"})
    assert values["status"] == "approved", values
    payment = settled(served_app, values["payment_id"])
    (charge,) = ledger(pinpads)
    assert charge["operator"] == "1|Bitrix24 workflow" and charge["amountCents"] == 1200
    ref = charge["ref"]
    assert ref and payment.result["ref"] == ref and payment.result["pad"]["REF"] == ref
    assert values["ref"] == ref  # the workflow's `ref` return value
    comments = comments_of(ctl, payment.id)
    assert comments and all(f"Host reference: {ref}" in c["COMMENT"] for c in comments)

    back = outcome(ctl, shop["deal_id"], {"payment_id": payment.id, "amount": "2.00"}, REFUND)
    assert back["status"] == "approved", back
    refund = next(e for e in ledger(pinpads) if e["txnType"] == "R")
    assert refund["operator"] == "1|Bitrix24 workflow" and refund["amountCents"] == 200
    assert back["ref"] == refund["ref"] != ref


def test_a_clerks_sale_names_the_clerk_and_the_screen_shows_the_reference(
    shop, ctl, app_port, pinpads, processes, served_app
) -> None:
    invoice_id = invoice(ctl, shop["deal_id"], "5.00")
    frame = _open(ctl, app_port, "CRM_DEAL_DETAIL_TAB", shop["deal_id"])
    started = frame.call("POST", "/payments", {"target": {"kind": "invoice", "id": invoice_id},
                                               "terminal_id": shop["terminal_id"]})  # fmt: skip
    assert started.status_code == 201, started.text
    payment = settled(served_app, started.json()["payment"]["id"])
    (charge,) = ledger(pinpads)
    assert charge["operator"] == "1|Anna Admin"
    view = frame.call("GET", f"/payments/{payment.id}").json()["payment"]
    assert view["result"]["ref"] == charge["ref"] != ""
