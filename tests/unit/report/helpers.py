"""What the report tests share: one payment's report input, and a scripted batch client."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bizproc_app.bitrix import BatchResult, error_from_response
from bizproc_app.payments.report import ReportInput

PID = "6f1c2b3a-0000-4000-8000-000000000001"
BASE = ReportInput(
    payment_id=PID,
    kind="purchase",
    status="approved",
    resolved_late=False,
    amount_cents=1000,
    currency="AUD",
    deal_id=7,
    invoice_id=5,
    order_payment_id=None,
    bitrix_payment_id=1033,
    success_stage="DT31_13:P",
    refund_stage=None,
    fully_refunded=False,
    event_token="wf|A1|e1.sig",
    return_values={"txn_ref": "T1", "auth_code": "123456", "receipt": "APPROVED"},
    comment=f"POS purchase approved, 10.00 AUD, payment {PID}",
    notify_user_ids=(1, 3),
    notify_message="Card payment of 10.00 AUD approved",
)
REFUND = {"kind": "refund", "refund_stage": "DT31_13:D"}
COMMENTS = ["comment_deal", "comment_invoice"]
READS = ["pay_rows", "pay_list"]  # the invoice's product rows and payments, before paying any


def make(**changes: Any) -> ReportInput:
    return replace(BASE, **changes)


def batch_error(body: dict[str, Any], method: str) -> Any:
    return error_from_response(None, body, method=method)


class ScriptedClient:
    """A stand-in for BitrixClient.batch: answers from a script, records what was asked."""

    def __init__(self, *answers: BatchResult | Exception) -> None:
        self.answers = list(answers)
        self.sent: list[list[str]] = []

    def batch(self, commands: dict[str, Any], *, halt: bool = False) -> BatchResult:
        assert halt is False
        self.sent.append(list(commands))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer
