"""The report drain without worker processes: shared batches and a broken record's isolation."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bizproc_app.bitrix import BatchResult
from bizproc_app.extensions import db
from bizproc_app.models import JournalEntry, Payment
from bizproc_app.payments.report_drain import ReportDrain


class Portal:
    """A Bitrix24 client that answers every command with success; counts the requests."""

    def __init__(self) -> None:
        self.requests: list[list[str]] = []

    def batch(self, commands: dict[str, Any], *, halt: bool = False) -> BatchResult:
        self.requests.append(list(commands))
        return BatchResult(results={name: 1 for name in commands})


def _approved(shop: dict[str, Any], txn: str) -> Payment:
    payment = Payment(
        portal_id=shop["portal_id"], terminal_id=shop["terminal_id"], kind="purchase",
        amount_cents=1000, currency="AUD", state="approved", source="robot", txn_ref=txn,
        deal_id=shop["deal_id"], invoice_id=None, context={"event_token": f"wf|{txn}"},
        report_state="pending", result={"response_code": "00"},
    )  # fmt: skip
    db.session.add(payment)
    db.session.commit()
    return payment


def test_reports_share_a_request_and_a_broken_one_backs_off_alone(
    shop, served_app, monkeypatch
) -> None:
    with served_app.app_context():
        broken, *good = [_approved(shop, f"T{i}") for i in range(3)]
        real_input = ReportDrain._input

        def input_or_fail(self, payment, portal, late):
            if payment.id == broken.id:
                raise ValueError("a record this report cannot read")
            return real_input(self, payment, portal, late)

        monkeypatch.setattr(ReportDrain, "_input", input_or_fail)
        portal = Portal()
        done = ReportDrain(served_app.config["APP_CONFIG"], db.session, lambda _: portal).run(
            shop["portal_id"]
        )
        assert done["reported"] == 2 and len(portal.requests) == 1  # both in one batch
        db.session.expire_all()
        for payment in good:
            stored = db.session.get(Payment, payment.id)
            assert stored.report_state == "done" and stored.report_done["event"] is True
        stuck = db.session.get(Payment, broken.id)
        assert stuck.report_state == "pending" and stuck.report_attempts == 1
        assert stuck.report_next_at is not None
        failed = db.session.scalars(
            select(JournalEntry.subject).where(JournalEntry.kind == "bitrix.report_failed")
        ).all()
        assert failed == [broken.id]
