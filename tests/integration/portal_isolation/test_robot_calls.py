"""Portal isolation for robot calls: the handler wants the portal's own application token, and
a genuine robot call of A that names B's terminal, payment or invoice is told no."""

from __future__ import annotations

import pytest

from tests.fuzz.conftest import APP_TOKEN, OTHER_TOKEN
from tests.helpers.bitrix24 import handler_call, workflow_returns
from tests.helpers.jobs import queued_jobs
from tests.integration.portal_isolation.helpers import (
    b_untouched,
    refused,
    robot_form,
    snapshot,
)


@pytest.mark.parametrize(
    ("caller", "target", "props"),
    [
        # A's application token, B's member id and documents.
        ("a", "b", {"terminal": "{b_terminal}", "invoice_id": "{b_invoice}"}),
        ("a", "b", {"payment_id": "{b_paid}"}),
        # B's application token, A's member id and documents.
        ("b", "a", {"terminal": "{a_terminal}", "amount": "10.00"}),
        ("b", "a", {"payment_id": "{a_payment}"}),
    ],
)
def test_robot_call_with_the_other_portal_token_is_refused(
    fuzz_app, portals, b24_b, redis_client, caller, target, props
) -> None:
    a, b = portals["a"], portals["b"]
    names = {
        "b_terminal": b["terminal_id"],
        "b_invoice": b["invoice_id"],
        "b_paid": b["approved"],
        "a_terminal": a["terminal_id"],
        "a_payment": a["payment_id"],
    }
    token = {"a": APP_TOKEN, "b": OTHER_TOKEN}[caller]
    form = robot_form(
        portals[target]["member_id"],
        token,
        portals[target]["deal_id"],
        **{k: v.format(**names) for k, v in props.items()},
    )
    before = snapshot(fuzz_app, b["portal_id"])
    resp = fuzz_app.test_client().post("/bitrix/handler", data=form)
    refused(resp, 401, "unknown portal or wrong application token")
    assert snapshot(fuzz_app, b["portal_id"]) == before
    assert queued_jobs(redis_client) == 0
    b_untouched(b24_b)


# A genuine robot call of A (proven by its event_token) that names B's terminal, payment or
# invoice: the job refuses it and tells A's workflow why; nothing of B moves.


@pytest.mark.parametrize(
    ("code", "props", "field", "problem"),
    [
        ("linkly_pos_payment", {"terminal": "{b_terminal}"}, "terminal", "unknown terminal"),
        (
            "linkly_pos_payment",
            {"invoice_id": "{b_invoice}", "terminal": "Front"},
            "invoice",
            "could not read the invoice",
        ),
        ("linkly_pos_refund", {"payment_id": "{b_paid}"}, "payment_id", "no such payment"),
        # B's approved purchase paid B's invoice of the same number as A's unpaid invoice.
        ("linkly_pos_refund", {"invoice_id": "{b_paid_invoice}"}, "payment_id", "no such payment"),
    ],
)
def test_a_robot_naming_b_objects_is_told_no_and_b_is_untouched(
    served_app, robot_portals, ctl, run_jobs, b24_b, code, props, field, problem
) -> None:
    b = robot_portals["b"]
    names = {
        "b_terminal": b["terminal_id"],
        "b_invoice": b["invoice_id"],
        "b_paid": b["approved"],
        "b_paid_invoice": b["paid_invoice_id"],
    }
    properties = {k: v.format(**names) for k, v in props.items()}
    before = snapshot(served_app, b["portal_id"])
    wf = ctl(
        "POST",
        "robots/run",
        {"id": robot_portals["deal_a"], "code": code, "properties": properties},
    )
    call = handler_call(ctl, wf["id"])
    assert call["status"] == 200 and '"queued"' in call["response"], call["response"]
    assert run_jobs() >= 1
    done = ctl("GET", f"workflows/{wf['id']}")
    values = workflow_returns(done)
    assert values["status"] == "error", values
    assert field in values["error"] and problem in values["error"].lower(), values["error"]
    after = snapshot(served_app, b["portal_id"])
    assert after["b"] == before["b"]
    assert after["counts"]["payments"] == before["counts"]["payments"]
    assert after["counts"]["terminals"] == before["counts"]["terminals"]
    assert after["counts"]["calls"] == before["counts"]["calls"] + 1  # A's own call, kept
    b_untouched(b24_b)
