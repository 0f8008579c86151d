"""Which crm.item.payment of a smart invoice is marked paid: only one whose sum is the charge."""

from __future__ import annotations

from typing import Any

import pytest

from bizproc_app.bitrix import BatchResult
from bizproc_app.payments.invoice_payment import plan
from bizproc_app.payments.report import ReportInput, report

ROW_10 = {"id": 12, "quantity": 1.0, "cents": 1000}


def _pay(pid: int, cents: int, paid: bool = False) -> dict[str, Any]:
    return {"id": pid, "cents": cents, "paid": paid}


@pytest.mark.parametrize(
    ("rows", "payments", "expected"),
    [
        pytest.param([ROW_10], [_pay(1033, 1000)], {"id": 1033}, id="its-own-payment-of-that-sum"),
        pytest.param(
            [ROW_10],
            [_pay(1033, 1000), _pay(1034, 1000, paid=True)],
            {"id": 1034, "paid": True},
            id="one-already-paid-is-not-paid-twice",
        ),
        pytest.param([ROW_10], [_pay(1033, 0)], {"rows": [[12, 1.0]]}, id="an-empty-payment"),
        pytest.param(
            [{"id": 12, "quantity": 2.0, "cents": 600}, {"id": 13, "quantity": 1.0, "cents": 400}],
            [],
            {"rows": [[12, 2.0], [13, 1.0]]},
            id="rows-that-come-to-the-charge",
        ),
        pytest.param(
            [],
            [_pay(1033, 0)],
            {"none": "the invoice has no product rows to carry the payment"},
            id="no-rows",
        ),
        pytest.param(
            [{"id": 12, "quantity": 1.0, "cents": 1500}],
            [_pay(1033, 1500)],
            {"none": "the invoice's product rows come to 1500 cents, not the 1000 charged"},
            id="rows-of-another-total",
        ),
    ],
)
def test_plan(rows: list[dict[str, Any]], payments: list[dict[str, Any]], expected: dict) -> None:
    assert plan(1000, rows, payments) == expected


class Portal:
    """Answers each batch from the commands it gets, as the portal would; records them."""

    def __init__(self, rows: list[dict[str, Any]], new_sum: float) -> None:
        self.rows, self.new_sum = rows, new_sum
        self.sent: list[list[str]] = []

    def batch(self, commands: dict[str, Any], *, halt: bool = False) -> BatchResult:
        self.sent.append(list(commands))
        answers = {
            "pay_rows": {"productRows": self.rows},
            "pay_list": [{"id": 1033, "sum": 0, "paid": "N"}],
            "pay_add": 1040,
            "pay_check": {"id": 1040, "sum": self.new_sum, "paid": "N"},
        }
        return BatchResult(results={n: answers.get(n, True) for n in commands})


def _inp() -> ReportInput:
    return ReportInput(
        payment_id="p1",
        kind="purchase",
        status="approved",
        resolved_late=False,
        amount_cents=1000,
        currency="AUD",
        deal_id=None,
        invoice_id=5,
        order_payment_id=None,
        bitrix_payment_id=1033,
        success_stage=None,
        refund_stage=None,
        fully_refunded=False,
        event_token=None,
        return_values={},
        comment="POS purchase approved",
        notify_user_ids=(),
        notify_message="",
    )


def test_a_new_payment_is_paid_once_its_sum_is_read_back_as_the_charge() -> None:
    portal = Portal([{"id": 12, "price": "10.00", "quantity": 1}], new_sum=10.0)
    done = report(portal, _inp(), {})
    assert portal.sent == [
        ["pay_rows", "pay_list", "comment_invoice"],
        ["pay_add", "pay_row0", "pay_check"],
        ["pay"],
    ]
    assert done["pay"] is True and done["paid_payment"] == 1040


def test_a_new_payment_of_another_sum_is_never_paid() -> None:
    portal = Portal([{"id": 12, "price": "10.00", "quantity": 1}], new_sum=9.5)
    done = report(portal, _inp(), {})
    assert ["pay"] not in portal.sent and "pay" not in done
    assert done["pay_plan"] == {"none": "the new payment came to 950 cents, not 1000"}
