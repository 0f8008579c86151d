"""Declined, cancelled and refused payments: the workflow hears once and no money moves."""

from __future__ import annotations

from bizproc_app.wiring.services import payments
from tests.helpers.waiting import wait_for
from tests.integration.payments.conftest import payment_of
from tests.integration.payments.flows import (
    charges,
    comments_of,
    events_logged,
    finished,
    invoice,
    invoice_paid,
    linkly,
    one_comment_each,
    outcome,
    rest_count,
    run,
    settled,
    transaction_posts,
)


def test_an_amount_ending_in_51_is_declined_and_nothing_is_charged(
    shop, ctl, pinpads, processes, served_app
) -> None:
    invoice_id = invoice(ctl, shop["deal_id"], "12.51")
    ctl("DELETE", "requests")
    wf = run(ctl, shop["deal_id"], {"invoice_id": str(invoice_id), "user": "user_1"})
    values = finished(ctl, wf)
    assert values["status"] == "declined", values
    assert values["approved"] in (False, "N", 0, "0")
    assert values["response_code"] == "51"
    payment = settled(served_app, values["payment_id"])
    assert payment.state == "declined" and payment.amount_cents == 1251
    assert charges(pinpads) == []
    assert len(transaction_posts(pinpads)) == 1
    assert not invoice_paid(ctl, invoice_id)
    # One report: one comment on the deal and one on the invoice, each saying declined.
    assert len(one_comment_each(ctl, payment.id)) == 2
    assert all("declined" in c["COMMENT"] for c in comments_of(ctl, payment.id))
    assert events_logged(ctl, wf) == 1 and rest_count(ctl, "bizproc.event.send") == 1
    assert rest_count(ctl, "crm.item.payment.pay") == 0


def test_the_clerk_cancels_on_the_pin_pad_and_nothing_is_charged(
    shop, ctl, pinpads, processes, served_app
) -> None:
    linkly(pinpads, "PATCH", "pinpads/1", {"mode": "interactive"})
    wf = run(ctl, shop["deal_id"], {"amount": "20.00", "user": "user_1"})
    wait_for(
        lambda: "PRESENT CARD" in str(linkly(pinpads, "GET", "pinpads/1/state")),
        15,
        "the PIN pad to ask for a card",
    )
    assert linkly(pinpads, "POST", "pinpads/1/press", {"button": "cancel"})["accepted"]
    values = finished(ctl, wf)
    assert values["status"] == "cancelled", values
    payment = settled(served_app, values["payment_id"])
    assert payment.state == "cancelled"
    assert charges(pinpads) == []


def test_our_cancel_reaches_the_pin_pad_while_it_offers_cancel(
    shop, ctl, pinpads, processes, served_app
) -> None:
    linkly(pinpads, "PATCH", "pinpads/1", {"mode": "interactive"})
    wf = run(ctl, shop["deal_id"], {"amount": "21.00", "user": "user_1"})

    def offering_cancel():
        payment = payment_of(served_app, terminal_id=shop["terminal_id"])
        ready = payment and payment.state == "in_progress" and (payment.display or {}).get("cancel")
        return payment if ready else None

    payment = wait_for(offering_cancel, 15, "the display to offer cancel")
    with served_app.app_context():
        runner = payments().pipeline()
        assert runner.cancel(runner.session.merge(payment))
    values = finished(ctl, wf)
    assert values["status"] == "cancelled", values
    assert settled(served_app, payment.id).state == "cancelled"
    assert charges(pinpads) == []


def test_a_user_without_a_terminal_is_refused_before_anything_is_sent(
    shop, ctl, pinpads, processes, served_app
) -> None:
    values = outcome(ctl, shop["deal_id"], {"amount": "10.00", "user": "user_2"})
    assert values["status"] == "error", values
    assert "No terminal is assigned to user 2" in values["error"]
    assert payment_of(served_app) is None
    assert charges(pinpads) == [] and transaction_posts(pinpads) == []


def test_a_currency_the_terminal_does_not_take_is_refused(
    shop, ctl, pinpads, processes, served_app
) -> None:
    values = outcome(ctl, shop["deal_id"], {"amount": "10.00", "currency": "USD", "user": "user_1"})
    assert values["status"] == "error", values
    assert "AUD" in values["error"] and "USD" in values["error"]
    assert payment_of(served_app) is None
    assert transaction_posts(pinpads) == []


def test_one_invoice_run_twice_at_once_is_paid_once(
    shop, ctl, pinpads, processes, served_app
) -> None:
    invoice_id = invoice(ctl, shop["deal_id"], "15.00")
    props = {"invoice_id": str(invoice_id), "user": "user_1"}
    first, second = run(ctl, shop["deal_id"], props), run(ctl, shop["deal_id"], props)
    results = sorted((finished(ctl, first), finished(ctl, second)), key=lambda v: v["status"])
    approved, refused = results
    assert approved["status"] == "approved", results
    assert refused["status"] == "error" and "already" in refused["error"], results
    assert len(charges(pinpads)) == 1 and charges(pinpads)[0]["amountCents"] == 1500
    settled(served_app, approved["payment_id"])
    assert invoice_paid(ctl, invoice_id)
    # Now that it is paid, a third call is refused from the CRM's own record.
    third = outcome(ctl, shop["deal_id"], props)
    assert third["status"] == "error" and "already paid" in third["error"], third
    assert len(charges(pinpads)) == 1 and len(transaction_posts(pinpads)) == 1
