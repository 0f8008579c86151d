"""The Bitrix24 report: which batch commands each outcome needs, and resuming after failures."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from bizproc_app.bitrix import BatchResult, BitrixUnavailable, error_from_response
from bizproc_app.linkly import format_cents
from bizproc_app.payments.report import (
    ReportIncomplete,
    ReportInput,
    plan_commands,
    record_results,
    report,
    report_many,
    workflow_return_values,
)

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


def _batch_error(body: dict[str, Any], method: str) -> Any:
    return error_from_response(None, body, method=method)


def test_record_results_keeps_what_landed_and_returns_the_rest() -> None:
    inp = make()
    cmds = plan_commands(inp, {})
    result = BatchResult(
        results={
            "pay_rows": {"productRows": [{"id": 12, "price": 10.0, "quantity": 1}]},
            "pay_list": [],
            "event": True,
            "stage": {"item": {}},
            "comment_deal": 1001,
        },
        errors={
            "comment_invoice": _batch_error(
                {"error": "OPERATION_TIME_LIMIT", "error_description": "blocked"},
                "crm.timeline.comment.add",
            )
        },
    )
    done: dict[str, Any] = {}
    errors = record_results(inp, done, cmds, result)
    assert list(errors) == ["comment_invoice"]
    assert done == {
        "pay_known": [],
        "pay_plan": {"rows": [[12, 1.0]]},
        "event": True,
        "stage": True,
        "comment_deal": 1001,
    }
    assert list(plan_commands(inp, done)) == ["pay_add", "pay_row0", "pay_check", "comment_invoice"]


@pytest.mark.parametrize(
    ("uncertain", "expected"), [([], "workflow_gone"), (["event"], "unconfirmed")]
)
def test_a_dead_workflow_is_recorded_not_retried(uncertain: list[str], expected: str) -> None:
    inp = make(invoice_id=None, bitrix_payment_id=None)
    done: dict[str, Any] = (
        {"comment_deal": 1, "uncertain": uncertain} if uncertain else {"comment_deal": 1}
    )
    cmds = plan_commands(inp, done)
    assert list(cmds) == ["event"]
    gone = _batch_error({"error": 0, "error_description": "WorkflowNotFound"}, "bizproc.event.send")
    assert record_results(inp, done, cmds, BatchResult(errors={"event": gone})) == {}
    assert done["event"] == expected
    assert "uncertain" not in done


def test_a_deleted_deal_is_recorded_not_retried() -> None:
    inp = make(status="declined", invoice_id=None, event_token=None)
    cmds = plan_commands(inp, {})
    gone = _batch_error({"error": "OWNER_NOT_FOUND", "error_description": "x"}, "m")
    done: dict[str, Any] = {}
    assert record_results(inp, done, cmds, BatchResult(errors={"comment_deal": gone})) == {}
    assert done == {"comment_deal": "owner_gone"} and plan_commands(inp, done) == {}


def test_look_ups_find_our_comment_and_payment() -> None:
    inp = make()
    done: dict[str, Any] = {
        "uncertain": ["comment_deal", "comment_invoice", "pay_add"],
        "pay_plan": {"rows": [[12, 1.0]]},
        "pay_known": [1039],
    }
    cmds = plan_commands(inp, done)
    result = BatchResult(
        results={
            "find_pay": [
                {"id": 1040, "paid": "Y", "sum": 10.0},
                {"id": 1039, "paid": "N", "sum": 25.0},
            ],
            "event": True,
            "stage": {"item": {}},
            "find_deal": [
                {"ID": "1002", "COMMENT": "other"},
                {"ID": "1001", "COMMENT": BASE.comment},
            ],
            "find_invoice": [],
        }
    )
    assert record_results(inp, done, cmds, result) == {}
    assert done["payment_added"] == 1040 and done["comment_deal"] == 1001
    assert "uncertain" not in done
    assert done["pay"] is True and done["paid_payment"] == 1040  # the lost batch paid it as well
    assert list(plan_commands(inp, done)) == ["comment_invoice"]


@pytest.mark.parametrize(
    ("found", "expected"),
    [
        pytest.param(
            [{"id": 1040, "paid": "N", "sum": "10.00"}],
            {"pay": ("crm.item.payment.pay", {"id": 1040})},
            id="ours-unpaid-is-paid-by-id",
        ),
        pytest.param(
            [{"id": 1039, "paid": "N", "sum": 25.0}],
            ["pay_add", "pay_row0", "pay_check"],
            id="only-the-invoices-own-so-the-lost-batch-made-none",
        ),
    ],
)
def test_a_lost_creation_is_looked_up_among_the_payments_the_invoice_did_not_have(
    found: list[dict[str, Any]], expected: Any
) -> None:
    inp = make()
    done: dict[str, Any] = {
        "uncertain": ["pay_add"],
        "pay_plan": {"rows": [[12, 1.0]]},
        "pay_known": [1039],
    }
    cmds = plan_commands(inp, done)
    result = BatchResult(results={name: True for name in cmds if name != "find_pay"})
    result.results["find_pay"] = [*found, {"id": 1039, "paid": "N", "sum": 25.0}]
    assert record_results(inp, done, cmds, result) == {}
    planned = plan_commands(inp, done)
    assert (planned if isinstance(expected, dict) else list(planned)) == expected


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


def test_report_records_a_lost_answer_then_looks_up_before_adding() -> None:
    inp = make(invoice_id=None, bitrix_payment_id=None)
    lost = BitrixUnavailable("TIMEOUT", "no answer in time", None, "batch")
    client = ScriptedClient(
        lost,
        BatchResult(results={"event": True, "find_deal": []}),
        BatchResult(results={"comment_deal": 1005}),
    )
    done: dict[str, Any] = {}
    with pytest.raises(ReportIncomplete) as caught:
        report(client, inp, done)
    assert caught.value.done is done and caught.value.retryable
    assert done == {"uncertain": ["comment_deal", "event"]}
    assert report(client, inp, done) == {"event": True, "comment_deal": 1005}
    assert client.sent == [["event", "comment_deal"], ["event", "find_deal"], ["comment_deal"]]


def test_report_raises_with_progress_when_a_command_fails() -> None:
    inp = make()
    limit = _batch_error({"error": "INTERNAL_SERVER_ERROR", "error_description": ""}, "m")
    client = ScriptedClient(
        BatchResult(
            results={"pay": True, "event": True, "stage": {}, "comment_deal": 1},
            errors={"comment_invoice": limit},
        )
    )
    done: dict[str, Any] = {"pay_plan": {"id": 1033}}
    with pytest.raises(ReportIncomplete) as caught:
        report(client, inp, done)
    assert set(caught.value.errors) == {"comment_invoice"} and caught.value.retryable
    assert done == {
        "pay_plan": {"id": 1033},
        "pay": True,
        "paid_payment": 1033,
        "event": True,
        "stage": True,
        "comment_deal": 1,
    }


def test_a_refused_token_is_not_retryable() -> None:
    refused = error_from_response(401, {"error": "invalid_token"}, method="batch")
    with pytest.raises(ReportIncomplete) as caught:
        report(ScriptedClient(refused), make(), {})
    assert caught.value.retryable is False


def test_reports_of_several_payments_share_one_batch_and_keep_their_own_progress() -> None:
    first = make()  # a payment of the invoice's row, made, then read back with $result[pay_add]
    second = make(payment_id="6f1c2b3a-0000-4000-8000-000000000002", status="declined")
    denied = error_from_response(
        403,
        {"error": "ACCESS_DENIED", "error_description": "no"},
        method="crm.timeline.comment.add",
    )
    client = ScriptedClient(
        BatchResult(
            results={
                "p0_pay_add": 2001,
                "p0_pay_row0": 7,
                "p0_pay_check": {"id": 2001, "sum": 10.0, "paid": "N"},
                "p0_event": True,
                "p0_stage": {"item": {}},
                "p0_comment_deal": 11,
                "p0_comment_invoice": 12,
                "p1_event": True,
                "p1_comment_deal": 21,
            },
            errors={"p1_comment_invoice": denied},
        )
    )
    done0: dict[str, Any] = {"pay_plan": {"rows": [[12, 1.0]]}}
    done1: dict[str, Any] = {}
    errors = report_many(client, {"p0": (first, done0), "p1": (second, done1)})
    assert len(client.sent) == 1  # one request for both payments
    assert client.sent[0][:3] == ["p0_pay_add", "p0_pay_row0", "p0_pay_check"]
    assert done0 == {
        "pay_plan": {"id": 2001},  # its sum is the charge: paid next round
        "payment_added": 2001,
        "event": True,
        "stage": True,
        "comment_deal": 11,
        "comment_invoice": 12,
        "invoice_timeline_type": "smart_invoice",  # the form the portal took
    }
    assert done1 == {"event": True, "comment_deal": 21}
    assert list(errors) == ["p1"] and list(errors["p1"]) == ["comment_invoice"]
    assert plan_commands(second, done1) == {
        "comment_invoice": plan_commands(second, {})["comment_invoice"]
    }


def test_a_lost_shared_batch_makes_every_payment_look_up_its_creations_first() -> None:
    lost = BitrixUnavailable("TIMEOUT", "no answer in time", None, "batch")
    client = ScriptedClient(lost)
    done0: dict[str, Any] = {}
    done1: dict[str, Any] = {"event": True, "pay": True, "stage": True, "comment_deal": 1}
    items = {"p0": (make(), done0), "p1": (make(), done1)}
    errors = report_many(client, items)
    assert set(errors) == {"p0", "p1"}
    assert done0["uncertain"] == ["comment_deal", "comment_invoice", "event"]
    assert done1["uncertain"] == ["comment_invoice"]


def test_a_refused_invoice_comment_form_is_followed_by_the_other_then_owner_gone() -> None:
    inp = make()
    refused = _batch_error(
        {"error": "OWNER_NOT_FOUND", "error_description": "Owner was not found"},
        "crm.timeline.comment.add",
    )
    done: dict[str, Any] = {"pay": True, "event": True, "stage": True, "comment_deal": 1}
    first = plan_commands(inp, done)
    assert first["comment_invoice"][1]["fields"]["ENTITY_TYPE"] == "smart_invoice"
    assert record_results(inp, done, first, BatchResult(errors={"comment_invoice": refused})) == {}
    second = plan_commands(inp, done)
    assert second["comment_invoice"][1]["fields"]["ENTITY_TYPE"] == "dynamic_31"
    assert record_results(inp, done, second, BatchResult(errors={"comment_invoice": refused})) == {}
    assert done["comment_invoice"] == "owner_gone"
    assert done["invoice_forms_refused"] == ["smart_invoice", "dynamic_31"]
    assert plan_commands(inp, done) == {}
    # A portal known to take dynamic_31 is asked in that form first.
    known = replace(inp, invoice_timeline_type="dynamic_31")
    assert plan_commands(known, {})["comment_invoice"][1]["fields"]["ENTITY_TYPE"] == "dynamic_31"
