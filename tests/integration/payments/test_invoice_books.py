"""Invoice bookkeeping by amounts, and one invoice's reports in order (issue 12, 3-5 and 9).

The drain tests run without worker processes against a recording Bitrix24 client, so the order
of the commands it sends is exact; the robot tests run the whole stack.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bizproc_app.extensions import db
from bizproc_app.linkly import Outcome, TransactionResult
from bizproc_app.models import Payment
from bizproc_app.payments import states
from bizproc_app.payments.report_drain import ReportDrain
from tests.integration.payments.conftest import payment_of
from tests.integration.payments.flows import (
    charges,
    comments_of,
    finished,
    invoice,
    invoice_paid,
    rest_count,
    run,
    settled,
)
from tests.integration.payments.races import RecordingPortal, ago, in_thread, stored_payment

REFUND = "linkly_pos_refund"


def _drain(app: Any, shop: dict[str, Any], client: RecordingPortal) -> Any:
    return ReportDrain(app.config["APP_CONFIG"], db.session, lambda _: client).run(
        shop["portal_id"]
    )


def test_a_refund_is_reported_only_after_its_purchase(shop, served_app) -> None:
    with served_app.app_context():
        purchase = stored_payment(shop, report_next_at=ago(-60))  # its report backs off for now
        stored_payment(
            shop, kind="refund", original_id=purchase.id, context={**purchase.context}, rfn=None
        )
        client = RecordingPortal()
        _drain(served_app, shop, client)
        assert client.methods() == []  # the refund waits: an un-pay must not come first
        db.session.execute(
            Payment.__table__.update().where(Payment.id == purchase.id).values(report_next_at=None)
        )
        db.session.commit()
        _drain(served_app, shop, client)
        methods = client.methods()
        assert methods.index("crm.item.payment.pay") < methods.index("crm.item.payment.unpay")


def test_a_full_refund_of_an_invoice_closed_without_a_paid_payment_moves_it_back_only(
    shop, served_app
) -> None:
    why = "the invoice has no product rows to carry the payment"
    with served_app.app_context():
        purchase = stored_payment(
            shop,
            report_state="done",
            report_done={"pay_plan": {"none": why}, "stage": True, "event": True},
        )
        stored_payment(
            shop, kind="refund", original_id=purchase.id, context={**purchase.context}, rfn=None
        )
        client = RecordingPortal()
        cfg = replace(served_app.config["APP_CONFIG"], REFUND_STAGE="DT31_13:D")
        ReportDrain(cfg, db.session, lambda _: client).run(shop["portal_id"])
        sent = [(m, p) for r in client.requests for m, p in r.values()]
        stage = {"entityTypeId": 31, "id": 5, "fields": {"stageId": "DT31_13:D"}}
        assert ("crm.item.update", stage) in sent
        assert "crm.item.payment.unpay" not in client.methods()  # no payment of ours was paid


def test_a_full_refund_unpays_the_invoices_ownstored_payment(shop, served_app) -> None:
    from bizproc_app.models import Portal as PortalRow
    from bizproc_app.payments import starting
    from bizproc_app.payments.starting import PaymentRequest

    with served_app.app_context():
        purchase = stored_payment(
            shop, report_state="done", report_done={"pay": True, "event": True}
        )
        portal = db.session.get(PortalRow, shop["portal_id"])
        refund = starting.start(
            db.session,
            served_app.config["APP_CONFIG"],
            PaymentRequest(
                portal=portal,
                kind="refund",
                source="robot",
                original_payment_id=purchase.id,
                event_token="wf|r",
            ),
        )
        assert refund.context["bitrix_payment_id"] == 1033
        db.session.execute(
            Payment.__table__.update()
            .where(Payment.id == refund.id)
            .values(state="approved", report_state="pending", result={"amount_cents": 1000})
        )
        db.session.commit()
        client = RecordingPortal()
        _drain(served_app, shop, client)
        unpays = [
            p for r in client.requests for m, p in r.values() if m == "crm.item.payment.unpay"
        ]
        assert unpays == [{"id": 1033}]


def test_a_refund_still_running_does_not_unpay_the_invoice(shop, served_app) -> None:
    with served_app.app_context():
        purchase = stored_payment(
            shop, report_state="done", report_done={"pay": True, "event": True}
        )
        ctx = {**purchase.context}
        stored_payment(shop, kind="refund", original_id=purchase.id, amount_cents=600, context=ctx)
        stored_payment(
            shop, kind="refund", original_id=purchase.id, amount_cents=400, context=ctx,
            state="in_progress", report_state="none", result=None,
        )  # fmt: skip
        client = RecordingPortal()
        _drain(served_app, shop, client)
        assert "crm.item.payment.unpay" not in client.methods()
        assert "crm.timeline.comment.add" in client.methods()


def test_two_drains_never_send_one_report_twice(shop, served_app) -> None:
    with served_app.app_context():
        stored_payment(shop, invoice_id=None, context={"event_token": "wf|x"})
        second = RecordingPortal()
        # The first drain's lock expired under a slow batch: a second drain starts meanwhile.
        first = RecordingPortal(
            during=lambda: in_thread(served_app, lambda: _drain(served_app, shop, second))
        )
        _drain(served_app, shop, first)
        assert second.methods() == []
        assert first.methods().count("crm.timeline.comment.add") == 1


def test_linkly_approving_another_amount_is_booked_as_approved_and_told(shop, served_app) -> None:
    with served_app.app_context():
        payment = stored_payment(shop, state="in_progress", session_id="s-1", txn_ref="T1",
                           report_state="none", result=None)  # fmt: skip
        result = TransactionResult(
            success=True, response_code="00", response_text="APPROVED", outcome=Outcome.APPROVED,
            txn_type="P", txn_ref="T1", amount_cents=100, cash_cents=None, auth_code="1",
            rrn=None, stan=None, card_type=None, card_name=None, pan=None, account=None,
            caid=None, catid=None, date=None, date_settlement=None, rfn="R",
            purchase_analysis_data={}, txn_flags={}, raw={},
        )  # fmt: skip
        assert states.finalize(db.session, payment, result, "event", "s-1")
        assert payment.state == "approved"
        assert payment.context["conflict"]["approved_cents"] == 100
        client = RecordingPortal()
        _drain(served_app, shop, client)
        # 1.00 of 10.00 approved: not paid, and people are told.
        assert "crm.item.payment.pay" not in client.methods()
        assert "im.notify" in client.methods()


def test_an_amount_override_pays_part_of_the_invoice(
    shop, ctl, pinpads, processes, served_app
) -> None:
    invoice_id = invoice(ctl, shop["deal_id"], "100.00")
    props = {"invoice_id": str(invoice_id), "user": "user_1"}
    refused = finished(ctl, run(ctl, shop["deal_id"], {**props, "amount": "1", "currency": "USD"}))
    assert refused["status"] == "error" and "currency" in refused["error"], refused
    part = finished(ctl, run(ctl, shop["deal_id"], {**props, "amount": "1.00"}))
    assert part["status"] == "approved", part
    first = settled(served_app, part["payment_id"])
    assert not invoice_paid(ctl, invoice_id) and rest_count(ctl, "crm.item.payment.pay") == 0
    assert any(
        "Partly paid: 1.00 of 100.00 AUD" in c["COMMENT"] for c in comments_of(ctl, first.id)
    )
    rest = finished(ctl, run(ctl, shop["deal_id"], props))  # no amount: what is still due
    assert rest["status"] == "approved" and rest["amount"] in (99, "99.00"), rest
    settled(served_app, rest["payment_id"])
    assert invoice_paid(ctl, invoice_id)
    assert sorted(c["amountCents"] for c in charges(pinpads)) == [100, 9900]


def test_a_deals_amount_is_paid_once_and_a_refunded_invoice_can_be_paid_again(
    shop, ctl, pinpads, processes, served_app
) -> None:
    deal = finished(ctl, run(ctl, shop["deal_id"], {"user": "user_1"}))  # the deal's 25.00
    assert deal["status"] == "approved", deal
    again = finished(ctl, run(ctl, shop["deal_id"], {"user": "user_1"}))
    assert again["status"] == "error" and "already paid" in again["error"], again

    invoice_id = invoice(ctl, shop["deal_id"], "15.00")
    props = {"invoice_id": str(invoice_id), "user": "user_1"}
    paid = finished(ctl, run(ctl, shop["deal_id"], props))
    settled(served_app, paid["payment_id"])
    back = finished(ctl, run(ctl, shop["deal_id"], {"payment_id": paid["payment_id"]}, REFUND))
    assert back["status"] == "approved", back
    settled(served_app, back["payment_id"])
    assert not invoice_paid(ctl, invoice_id)
    twice = finished(ctl, run(ctl, shop["deal_id"], props))
    assert twice["status"] == "approved", twice
    settled(served_app, twice["payment_id"])
    assert invoice_paid(ctl, invoice_id)
    assert payment_of(served_app, id=twice["payment_id"]).invoice_lock is None
    assert len(charges(pinpads)) == 3
