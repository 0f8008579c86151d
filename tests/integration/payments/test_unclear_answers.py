"""Unclear answers to the transaction POST: only the recovery GET decides (issue 12, 7-8), and
Linkly's approval wins over an ending we had recorded (the money was taken)."""

from __future__ import annotations

from sqlalchemy import select

from bizproc_app.extensions import db
from bizproc_app.models import JournalEntry
from tests.helpers.waiting import wait_for
from tests.integration.payments.conftest import payment_of
from tests.integration.payments.flows import (
    charges,
    comments_of,
    events_logged,
    fault,
    finished,
    invoice,
    invoice_paid,
    run,
    settled,
    transaction_posts,
)


def _kinds(app, payment_id: str) -> list[str]:
    with app.app_context():
        stmt = select(JournalEntry.kind).where(JournalEntry.subject == payment_id)
        return list(db.session.scalars(stmt.order_by(JournalEntry.id)))


def test_a_401_then_a_404_never_sends_again(shop, ctl, pinpads, processes, served_app) -> None:
    # A gateway refuses the POST with 401 before Linkly sees it: the GET then answers 404.
    fault(pinpads, "http_error", ops=["transaction"], params={"status": 401, "processed": False})
    wf = run(ctl, shop["deal_id"], {"amount": "21.00", "user": "user_1"})
    values = finished(ctl, wf)
    assert values["status"] == "failed", values
    payment = settled(served_app, values["payment_id"])
    assert "not received" in payment.error and "not charged" in payment.error
    kinds = _kinds(served_app, payment.id)
    assert "linkly.resend" not in kinds and "linkly.unknown" in kinds, kinds
    # The refused POST left no session at Linkly, and nothing was sent again.
    assert transaction_posts(pinpads) == [] and charges(pinpads) == []
    # The 404 was trusted only once the POST was older than the grace period.
    assert (payment.finished_at - payment.sent_at).total_seconds() >= 2.0


def test_a_404_on_the_post_is_checked_with_the_recovery_get(
    shop, ctl, pinpads, processes, served_app
) -> None:
    # A proxy answers 404 although Linkly took the purchase: the card is charged.
    fault(pinpads, "http_error", ops=["transaction"], params={"status": 404, "processed": True})
    fault(pinpads, "events_lost", params={"types": ["transaction"]})
    wf = run(ctl, shop["deal_id"], {"amount": "22.00", "user": "user_1"})
    values = finished(ctl, wf)
    assert values["status"] == "approved", values
    payment = settled(served_app, values["payment_id"])
    assert [c["txnRef"] for c in charges(pinpads)] == [payment.txn_ref]
    assert len(transaction_posts(pinpads)) == 1


def test_linklys_late_approval_wins_over_a_recorded_failure(
    shop, ctl, pinpads, processes, served_app
) -> None:
    # Every event arrives late and a gateway answers the recovery GET with 404: after the grace
    # period the payment is recorded "not received"; then the approval arrives.
    fault(pinpads, "events_delayed", params={"seconds": 6.0})
    fault(pinpads, "http_error", scope="run", params={"status": 404, "on": "get"})
    invoice_id = invoice(ctl, shop["deal_id"], "23.00")
    wf = run(ctl, shop["deal_id"], {"invoice_id": str(invoice_id), "user": "user_1"})
    told = finished(ctl, wf)
    assert told["status"] == "failed", told

    def approved():
        p = payment_of(served_app, id=told["payment_id"])
        return p if p.state == "approved" and p.report_state == "done" else None

    payment = wait_for(approved, 30, "the late approval to be recorded and reported")
    assert payment.context["late_approval"]["was"] == "failed"
    assert "payment.late_approval" in _kinds(served_app, payment.id)
    assert [c["txnRef"] for c in charges(pinpads)] == [payment.txn_ref]
    assert invoice_paid(ctl, invoice_id)
    headlines = sorted(c["COMMENT"].splitlines()[0] for c in comments_of(ctl, payment.id))
    assert headlines == [
        "Card payment 23.00 AUD: approved",
        "Card payment 23.00 AUD: approved",
        "Card payment 23.00 AUD: failed",
        "Card payment 23.00 AUD: failed",
    ], headlines
    assert events_logged(ctl, wf) == 1  # the workflow had its one outcome
    notes = [n for n in ctl("GET", "notifications") if payment.id in n["message"]]
    assert notes and all("APPROVED" in n["message"] for n in notes), notes
    # The invoice counts as paid again: a second charge is refused.
    again = finished(
        ctl, run(ctl, shop["deal_id"], {"invoice_id": str(invoice_id), "user": "user_1"})
    )
    assert again["status"] == "error" and "already paid" in again["error"], again
    assert len(charges(pinpads)) == 1
