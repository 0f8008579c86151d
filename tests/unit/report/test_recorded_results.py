"""The Bitrix24 report's results: what landed is kept, what failed or was lost is planned again
(looked up first where a lost answer may have made it), and what can never land is recorded."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from bizproc_app.bitrix import BatchResult
from bizproc_app.payments.report import plan_commands, record_results
from tests.unit.report.helpers import BASE, batch_error, make


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
            "comment_invoice": batch_error(
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
    gone = batch_error({"error": 0, "error_description": "WorkflowNotFound"}, "bizproc.event.send")
    assert record_results(inp, done, cmds, BatchResult(errors={"event": gone})) == {}
    assert done["event"] == expected
    assert "uncertain" not in done


def test_a_deleted_deal_is_recorded_not_retried() -> None:
    inp = make(status="declined", invoice_id=None, event_token=None)
    cmds = plan_commands(inp, {})
    gone = batch_error({"error": "OWNER_NOT_FOUND", "error_description": "x"}, "m")
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


def test_a_refused_invoice_comment_form_is_followed_by_the_other_then_owner_gone() -> None:
    inp = make()
    refused = batch_error(
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
