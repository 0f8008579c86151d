"""Linkly faults: a lost answer; lost, duplicated or reordered events. One charge, one report."""

from __future__ import annotations

from sqlalchemy import select

from bizproc_app.extensions import db
from bizproc_app.models import JournalEntry
from tests.integration.payments.flows import (
    charges,
    events_logged,
    fault,
    finished,
    invoice,
    invoice_paid,
    one_comment_each,
    quiet,
    rest_count,
    run,
    settled,
    transaction_posts,
)


def journal_of(app, payment_id: str) -> list[JournalEntry]:
    """The journal entries about one payment, oldest first."""
    with app.app_context():
        stmt = select(JournalEntry).where(JournalEntry.subject == payment_id)
        entries = list(db.session.scalars(stmt.order_by(JournalEntry.id)))
        db.session.expunge_all()
        return entries


def _finals(app, payment_id: str) -> list[dict]:
    return [e.detail for e in journal_of(app, payment_id) if e.kind == "payment.final"]


def test_a_dropped_answer_is_resolved_by_the_recovery_get_not_by_resending(
    shop, ctl, pinpads, processes, served_app
) -> None:
    fault(pinpads, "drop_response", ops=["transaction"])
    fault(pinpads, "events_lost", params={"types": ["transaction"]})
    invoice_id = invoice(ctl, shop["deal_id"], "40.00")
    ctl("DELETE", "requests")
    wf = run(ctl, shop["deal_id"], {"invoice_id": str(invoice_id), "user": "user_1"})
    values = finished(ctl, wf)
    assert values["status"] == "approved", values
    payment = settled(served_app, values["payment_id"])
    kinds = [e.kind for e in journal_of(served_app, payment.id)]
    assert "linkly.unknown" in kinds and "linkly.resend" not in kinds, kinds
    assert [f["source"] for f in _finals(served_app, payment.id)] == ["recovery"]
    assert len(charges(pinpads, payment.txn_ref)) == 1 and len(charges(pinpads)) == 1
    assert len(transaction_posts(pinpads)) == 1
    assert invoice_paid(ctl, invoice_id)
    one_comment_each(ctl, payment.id)
    assert events_logged(ctl, wf) == 1 and rest_count(ctl, "bizproc.event.send") == 1


def test_a_lost_transaction_event_is_found_by_the_sweep(
    shop, ctl, pinpads, processes, served_app
) -> None:
    fault(pinpads, "events_lost", params={"types": ["transaction"]})
    wf = run(ctl, shop["deal_id"], {"amount": "41.00", "user": "user_1"})
    values = finished(ctl, wf)
    assert values["status"] == "approved", values
    payment = settled(served_app, values["payment_id"])
    assert [f["source"] for f in _finals(served_app, payment.id)] == ["recovery"]
    assert len(charges(pinpads)) == 1 and len(transaction_posts(pinpads)) == 1
    assert events_logged(ctl, wf) == 1


def test_duplicated_and_reordered_events_make_one_final_state_and_one_report(
    shop, ctl, pinpads, processes, served_app
) -> None:
    fault(pinpads, "events_duplicated", params={"times": 3})
    fault(pinpads, "events_reordered")
    # A slow portal keeps the first report busy while the duplicates arrive.
    ctl("POST", "faults", {"delay": 0.5, "delay_method": "batch"})
    invoice_id = invoice(ctl, shop["deal_id"], "42.00")
    ctl("DELETE", "requests")
    wf = run(ctl, shop["deal_id"], {"invoice_id": str(invoice_id), "user": "user_1"})
    values = finished(ctl, wf)
    assert values["status"] == "approved", values
    payment = settled(served_app, values["payment_id"])
    quiet(2.0)  # late duplicates and sweeps get their chance to report twice
    assert len(_finals(served_app, payment.id)) == 1
    assert len(charges(pinpads)) == 1 and len(transaction_posts(pinpads)) == 1
    assert len(one_comment_each(ctl, payment.id)) == 2
    assert rest_count(ctl, "bizproc.event.send") == 1
    assert rest_count(ctl, "crm.item.payment.add") == 1
    assert rest_count(ctl, "crm.item.payment.pay") == 1
    assert invoice_paid(ctl, invoice_id)
