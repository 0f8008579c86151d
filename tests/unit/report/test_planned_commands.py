"""The Bitrix24 report's plan: which batch commands each outcome needs, and what they say."""

from __future__ import annotations

from typing import Any

import pytest

from bizproc_app.linkly import format_cents
from bizproc_app.payments.report import plan_commands, workflow_return_values
from tests.unit.report.helpers import BASE, COMMENTS, PID, READS, REFUND, make


@pytest.mark.parametrize(
    ("changes", "done", "expected"),
    [
        pytest.param({}, {}, [*READS, "event", "stage", *COMMENTS], id="approved-invoice"),
        pytest.param(
            {},
            {"pay_plan": {"rows": [[12, 1.0], [13, 2.0]]}},
            ["pay_add", "pay_row0", "pay_row1", "pay_check", "event", "stage", *COMMENTS],
            id="a-payment-is-made-of-the-invoice-rows-and-read-back",
        ),
        pytest.param(
            {}, {"pay_plan": {"id": 1040}}, ["pay", "event", "stage", *COMMENTS], id="pay-planned"
        ),
        pytest.param(
            {},
            {"pay_plan": {"none": "the invoice has no product rows"}},
            ["event", "stage", *COMMENTS],
            id="no-payment-can-carry-the-charge",
        ),
        pytest.param(
            {"success_stage": None}, {}, [*READS, "event", *COMMENTS], id="no-success-stage"
        ),
        pytest.param(
            {"invoice_id": None, "bitrix_payment_id": None, "order_payment_id": 88},
            {},
            ["pay", "event", "comment_deal"],
            id="approved-order-payment",
        ),
        pytest.param(
            {"invoice_id": None, "bitrix_payment_id": None},
            {},
            ["event", "comment_deal"],
            id="approved-plain-deal",
        ),
        pytest.param({"event_token": None}, {}, [*READS, "stage", *COMMENTS], id="started-by-user"),
        pytest.param({"status": "declined"}, {}, ["event", *COMMENTS], id="declined"),
        pytest.param({"status": "cancelled"}, {}, ["event", *COMMENTS], id="cancelled"),
        pytest.param({"status": "failed"}, {}, ["event", *COMMENTS], id="failed"),
        pytest.param({"status": "error"}, {}, ["event", *COMMENTS], id="error"),
        pytest.param(
            {"status": "declined", "invoice_id": None},
            {},
            ["event", "comment_deal"],
            id="declined-plain-deal",
        ),
        pytest.param(REFUND, {}, ["event", *COMMENTS], id="partial-refund"),
        pytest.param(
            {**REFUND, "fully_refunded": True},
            {},
            ["unpay", "event", "stage", *COMMENTS],
            id="full-refund",
        ),
        pytest.param(
            {**REFUND, "fully_refunded": True, "refund_stage": None},
            {},
            ["unpay", "event", *COMMENTS],
            id="full-refund-no-stage",
        ),
        pytest.param(
            {**REFUND, "fully_refunded": True, "status": "declined"},
            {},
            ["event", *COMMENTS],
            id="declined-refund",
        ),
        pytest.param({"status": "unknown"}, {}, ["event", "notify_1", "notify_3"], id="unknown"),
        pytest.param(
            {"resolved_late": True},
            {"event": True, "notify": {"unknown": [1, 3]}},
            [*READS, "stage", *COMMENTS, "notify_1", "notify_3"],
            id="late-approved",
        ),
        pytest.param(
            {"resolved_late": True, "status": "declined"},
            {"event": True, "notify": {"unknown": [1, 3]}},
            [*COMMENTS, "notify_1", "notify_3"],
            id="late-declined",
        ),
        pytest.param(
            {},
            {"pay": True, "event": True, "stage": True, "comment_deal": 1001},
            ["comment_invoice"],
            id="retry-sends-only-what-is-missing",
        ),
        pytest.param(
            {},
            {"pay_plan": {"rows": [[12, 1.0]]}, "payment_added": 1040},
            ["pay_check", "event", "stage", *COMMENTS],
            id="retry-reads-back-the-payment-already-added",
        ),
        pytest.param(
            {},
            {"pay": True, "stage": True, "event": True, "uncertain": COMMENTS},
            ["find_deal", "find_invoice"],
            id="after-a-lost-answer-look-comments-up",
        ),
        pytest.param(
            {"bitrix_payment_id": None},
            {"uncertain": ["pay_add", "comment_deal"]},
            ["find_pay", "event", "stage", "find_deal", "comment_invoice"],
            id="after-a-lost-answer-look-the-payment-up",
        ),
        pytest.param(
            {},
            {
                "pay": True,
                "stage": True,
                "event": "workflow_gone",
                "comment_deal": 1,
                "comment_invoice": 2,
            },
            ["notify_1", "notify_3"],
            id="workflow-gone-tells-people",
        ),
        pytest.param(
            {},
            {
                "pay": True,
                "stage": True,
                "event": "unconfirmed",
                "comment_deal": 1,
                "comment_invoice": 2,
            },
            [],
            id="event-probably-delivered",
        ),
        pytest.param(
            {"status": "unknown"},
            {"event": True, "notify": {"unknown": [1]}},
            ["notify_3"],
            id="unknown-retry-tells-only-the-rest",
        ),
        pytest.param(
            {},
            {"pay": True, "stage": True, "event": True, "comment_deal": 1, "comment_invoice": 2},
            [],
            id="nothing-left",
        ),
    ],
)
def test_plan_commands(changes: dict[str, Any], done: dict[str, Any], expected: list[str]) -> None:
    assert list(plan_commands(make(**changes), done)) == expected


def test_approved_invoice_commands_in_detail() -> None:
    cmds = plan_commands(make(), {})
    rows = {"filter": {"=ownerType": "SI", "=ownerId": 5}}
    assert cmds["pay_rows"] == ("crm.item.productrow.list", rows)
    assert cmds["pay_list"] == ("crm.item.payment.list", {"entityTypeId": 31, "entityId": 5})
    assert cmds["stage"] == (
        "crm.item.update",
        {"entityTypeId": 31, "id": 5, "fields": {"stageId": "DT31_13:P"}},
    )
    assert cmds["comment_deal"] == (
        "crm.timeline.comment.add",
        {"fields": {"ENTITY_ID": 7, "ENTITY_TYPE": "deal", "COMMENT": BASE.comment}},
    )
    assert cmds["comment_invoice"][1]["fields"]["ENTITY_TYPE"] == "smart_invoice"
    method, params = cmds["event"]
    assert method == "bizproc.event.send"
    assert params["EVENT_TOKEN"] == BASE.event_token
    assert PID in params["LOG_MESSAGE"]
    planned = plan_commands(make(), {"pay_plan": {"rows": [[12, 1.0], [13, 2.0]]}})
    assert planned["pay_add"] == ("crm.item.payment.add", {"entityTypeId": 31, "entityId": 5})
    assert planned["pay_row1"] == (
        "crm.item.payment.product.add",
        {"paymentId": "$result[pay_add]", "rowId": 13, "quantity": 2.0},
    )
    assert planned["pay_check"] == ("crm.item.payment.get", {"id": "$result[pay_add]"})
    assert "pay" not in planned  # paid only once its sum is read back


def test_refund_unpays_the_invoice_payment_or_the_order_payment() -> None:
    full = {**REFUND, "fully_refunded": True}
    assert plan_commands(make(**full), {})["unpay"] == ("crm.item.payment.unpay", {"id": 1033})
    order = make(**full, invoice_id=None, bitrix_payment_id=None, order_payment_id=88)
    assert plan_commands(order, {})["unpay"] == ("crm.item.payment.unpay", {"id": 88})


def test_each_person_gets_one_tag_per_payment() -> None:
    cmds = plan_commands(make(status="unknown"), {})
    assert cmds["notify_3"] == (
        "im.notify",
        {
            "USER_ID": 3,
            "TYPE": "SYSTEM",
            "MESSAGE": BASE.notify_message,
            "TAG": f"pos-{PID}-3",
            "SUB_TAG": f"pos-{PID}",
        },
    )


def test_return_values_hold_the_contract_keys_only() -> None:
    inp = make(return_values={"txn_ref": "T1", "approved": "Y", "secret": "x", "rrn": None})
    assert workflow_return_values(inp) == {
        "txn_ref": "T1",
        "status": "approved",
        "approved": "Y",
        "amount": "10.00",
        "payment_id": PID,
    }
    assert workflow_return_values(make(status="declined"))["approved"] == "N"


@pytest.mark.parametrize(
    ("cents", "text"),
    [
        (0, "0.00"),
        (5, "0.05"),
        (1000, "10.00"),
        (123456, "1234.56"),
        (10**12 + 1, "10000000000.01"),
    ],
)
def test_format_cents(cents: int, text: str) -> None:
    assert format_cents(cents) == text
