"""Races around Linkly's final result (issue 12): the event against the sweep's deadline, the
recovery GET and the report drain. One actor stops after its read; the event lands; it writes.
"""

from __future__ import annotations

from typing import Any

from bizproc_app.extensions import db
from bizproc_app.linkly import Outcome, TransactionResult
from bizproc_app.models import Payment
from bizproc_app.payments import states
from bizproc_app.payments.report_drain import ReportDrain
from bizproc_app.payments.sweep import Sweep
from bizproc_app.wiring.services import payments
from tests.integration.payments.races import (
    Recorded,
    RecordingPortal,
    ago,
    in_thread,
    pause_before_first_payment_write,
    stored_payment,
)


def _approval(payment: Payment) -> TransactionResult:
    return TransactionResult(
        success=True, response_code="00", response_text="APPROVED", outcome=Outcome.APPROVED,
        txn_type="P", txn_ref=payment.txn_ref or "", amount_cents=payment.amount_cents,
        cash_cents=None, auth_code="123456", rrn=None, stan=None, card_type="VISA",
        card_name=None, pan="...4242", account="CRD", caid=None, catid=None, date=None,
        date_settlement=None, rfn="RFN-LATE", purchase_analysis_data={}, txn_flags={}, raw={},
    )  # fmt: skip


def _event_approves(payment_id: str) -> Any:
    """Linkly's transaction event, as the notification endpoint applies it."""

    def land() -> bool:
        payment = db.session.get(Payment, payment_id)
        assert payment is not None and payment.session_id
        return states.finalize(db.session, payment, _approval(payment), "event", payment.session_id)

    return land


def _sent(shop: dict[str, Any], **fields: Any) -> Payment:
    """A purchase on the PIN pad: sent, waiting for its result."""
    values: dict[str, Any] = dict(
        state="in_progress", session_id="4" * 32, txn_ref="RACEREF000000004", sent_at=ago(3),
        report_state="none", result=None, rfn=None, invoice_lock=None,
    )  # fmt: skip
    return stored_payment(shop, **{**values, **fields})


def test_the_deadline_never_reports_unknown_what_linkly_just_approved(shop, served_app) -> None:
    cfg = served_app.config["APP_CONFIG"]
    with served_app.app_context():
        payment = _sent(shop, deadline_at=ago(1))
        with pause_before_first_payment_write(
            served_app, db.session, _event_approves(payment.id)
        ) as seen:
            Sweep(cfg, db.session, Recorded()).run()
        assert seen["other"] is True
        db.session.expire_all()
        stored = db.session.get(Payment, payment.id)
        assert stored.state == "approved" and stored.report_state == "pending"
        assert stored.reported_status is None  # nobody was told "unknown"


def test_a_recovery_404_never_fails_what_linkly_just_approved(shop, served_app, pinpads) -> None:
    with served_app.app_context():
        # Linkly's GET answers 404 for this session (the simulator never saw it): past the
        # grace period the recovery would end it "not received"; the approval lands first.
        payment = _sent(shop, sent_at=ago(60), terminal_id=shop["terminal_id"])
        with pause_before_first_payment_write(served_app, db.session, _event_approves(payment.id)):
            payments().recover(payment.id)
        db.session.expire_all()
        stored = db.session.get(Payment, payment.id)
        assert stored.state == "approved" and stored.error == ""


def test_a_report_running_while_linkly_overturns_the_outcome_reports_it_again(
    shop, served_app
) -> None:
    with served_app.app_context():
        payment = _sent(
            shop, state="failed", error="not received by Linkly (not charged)",
            report_state="pending", context={"event_token": "wf|race", **_ctx()},
        )  # fmt: skip
        portal = RecordingPortal(during=lambda: _in_other_thread(served_app, payment.id))
        ReportDrain(served_app.config["APP_CONFIG"], db.session, lambda _: portal).run(
            shop["portal_id"]
        )
        first, *later = portal.requests
        told = [m for m, _ in first.values()]
        assert "bizproc.event.send" in told and "crm.item.payment.pay" not in told, told
        # Then the approval is written to the CRM and told to people; the workflow hears once.
        again = [m for request in later for m, _ in request.values()]
        assert "crm.item.payment.pay" in again and "im.notify" in again, again
        assert again.count("crm.timeline.comment.add") == 2 and "bizproc.event.send" not in again
        db.session.expire_all()
        stored = db.session.get(Payment, payment.id)
        assert stored.state == "approved" and stored.report_state == "done"
        assert stored.reported_status == "failed"  # what the workflow heard, kept


def _ctx() -> dict[str, Any]:
    return {"bitrix_payment_id": 1033, "success_stage": "DT31_13:P", "target_cents": 1000}


def _in_other_thread(app: Any, payment_id: str) -> None:
    in_thread(app, _event_approves(payment_id))
