"""Refunds via the POS robot: full and partial, never more than was charged."""

from __future__ import annotations

from tests.integration.payments.flows import (
    REFUND,
    charges,
    invoice,
    invoice_paid,
    one_comment_each,
    outcome,
    refunds,
    settled,
    transaction_posts,
)


def _paid(ctl, shop, served_app, amount: str) -> tuple[str, int]:
    invoice_id = invoice(ctl, shop["deal_id"], amount)
    values = outcome(ctl, shop["deal_id"], {"invoice_id": str(invoice_id), "user": "user_1"})
    assert values["status"] == "approved", values
    settled(served_app, values["payment_id"])
    return values["payment_id"], invoice_id


def test_partial_refunds_add_up_and_an_over_refund_is_refused(
    shop, ctl, pinpads, processes, served_app
) -> None:
    payment_id, invoice_id = _paid(ctl, shop, served_app, "30.00")
    first = outcome(ctl, shop["deal_id"], {"payment_id": payment_id, "amount": "10.00"}, REFUND)
    assert first["status"] == "approved", first
    assert first["amount"] in ("10.00", 10.0, "10")
    refund = settled(served_app, first["payment_id"])
    assert refund.kind == "refund" and refund.amount_cents == 1000
    one_comment_each(ctl, refund.id)
    assert invoice_paid(ctl, invoice_id)  # partly refunded: still paid

    over = outcome(ctl, shop["deal_id"], {"payment_id": payment_id, "amount": "25.00"}, REFUND)
    assert over["status"] == "error" and "20.00" in over["error"], over

    rest = outcome(ctl, shop["deal_id"], {"payment_id": payment_id}, REFUND)  # the remainder
    assert rest["status"] == "approved", rest
    assert settled(served_app, rest["payment_id"]).amount_cents == 2000

    (charge,) = charges(pinpads)
    backs = refunds(pinpads)
    assert [e["amountCents"] for e in backs] == [1000, 2000]
    assert all(e["originalRfn"] == charge["rfn"] for e in backs)
    assert sum(e["amountCents"] for e in backs) == charge["amountCents"] == 3000
    assert len(transaction_posts(pinpads)) == 3  # the refused one never left


def test_a_full_refund_unpays_the_invoice_and_a_second_refund_is_refused(
    shop, ctl, pinpads, processes, served_app
) -> None:
    payment_id, invoice_id = _paid(ctl, shop, served_app, "20.00")
    full = outcome(ctl, shop["deal_id"], {"payment_id": payment_id}, REFUND)
    assert full["status"] == "approved", full
    settled(served_app, full["payment_id"])
    assert [e["amountCents"] for e in refunds(pinpads)] == [2000]
    crm = ctl("GET", "crm")
    paid = [p for p in crm["payments"] if int(p.get("entityId", 0)) == invoice_id]
    assert paid and all(p["paid"] == "N" for p in paid), paid

    again = outcome(ctl, shop["deal_id"], {"payment_id": payment_id}, REFUND)
    assert again["status"] == "error" and "already fully refunded" in again["error"], again
    assert len(refunds(pinpads)) == 1 and len(transaction_posts(pinpads)) == 2
