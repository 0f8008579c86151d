"""Reporting runs: one batch per round, shared by several payments, resumed after a failure or a
lost answer without doing anything twice."""

from __future__ import annotations

from typing import Any

import pytest

from bizproc_app.bitrix import BatchResult, BitrixUnavailable, error_from_response
from bizproc_app.payments.report import ReportIncomplete, plan_commands, report, report_many
from tests.unit.report.helpers import ScriptedClient, batch_error, make


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
    limit = batch_error({"error": "INTERNAL_SERVER_ERROR", "error_description": ""}, "m")
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
