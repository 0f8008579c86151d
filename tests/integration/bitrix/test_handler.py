"""The robot handler: verification, validation, de-duplication, and the report to the workflow."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from sqlalchemy import func, select

from bizproc_app.extensions import db
from bizproc_app.models import HandlerCall
from tests.helpers.bitrix24 import handler_call, workflow_returns
from tests.helpers.jobs import queued_jobs


@pytest.fixture
def installed(served_app, ctl) -> dict[str, Any]:
    """Install the app and create a deal; return the simulator's state and the deal id."""
    assert ctl("POST", "install", {"mode": "event"})["status"] == 200
    deal = ctl("POST", "deals", {"fields": {"title": "Lunch", "opportunity": 42.5}})
    return {**ctl("GET", "state"), "deal_id": deal.get("id") or deal.get("ID")}


def _run(
    ctl, deal_id: int, properties: dict[str, Any], code: str = "linkly_pos_payment"
) -> tuple[dict, dict]:
    wf = ctl("POST", "robots/run", {"id": deal_id, "code": code, "properties": properties})
    return wf, handler_call(ctl, wf["id"])


def test_valid_call_without_a_terminal_is_reported_as_an_error(installed, ctl, run_jobs) -> None:
    wf, call = _run(ctl, installed["deal_id"], {"amount": "10.00", "currency": "AUD"})
    assert call["status"] == 200, call["response"]
    assert '"queued"' in call["response"]
    assert run_jobs() == 1
    done = ctl("GET", f"workflows/{wf['id']}")
    values = workflow_returns(done)
    # No terminal is set up on this portal: the workflow hears why, and nothing is charged.
    assert values["status"] == "error"
    assert "No terminal is assigned to user" in values["error"]
    assert any("request received" in str(line) for line in done["log"])


def test_invalid_properties_get_400_and_an_error_outcome_in_the_workflow(
    installed, ctl, run_jobs
) -> None:
    wf, call = _run(ctl, installed["deal_id"], {"amount": "12.345", "currency": "aud"})
    assert call["status"] == 400
    body = requests.models.complexjson.loads(call["response"])
    assert set(body["errors"]["properties"]) == {"amount", "currency"}
    assert run_jobs() == 1
    values = workflow_returns(ctl("GET", f"workflows/{wf['id']}"))
    assert values["status"] == "error"
    assert "amount" in values["error"] and "currency" in values["error"]


def test_a_repeated_call_queues_nothing_new(
    installed, ctl, served_app, app_port, redis_client, run_jobs
) -> None:
    _, call = _run(ctl, installed["deal_id"], {"amount": "5"})
    assert queued_jobs(redis_client) == 1
    again = requests.post(
        f"http://127.0.0.1:{app_port}/bitrix/handler", data=call["fields"], timeout=10
    )
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    assert queued_jobs(redis_client) == 1
    with served_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(HandlerCall)) == 1


def test_a_wrong_application_token_is_refused_and_nothing_is_stored(
    installed, ctl, served_app, app_port, redis_client
) -> None:
    _, call = _run(ctl, installed["deal_id"], {"amount": "5"})
    forged = [[k, "f" * 32 if k == "auth[application_token]" else v] for k, v in call["fields"]]
    forged = [[k, "forged-event-token" if k == "event_token" else v] for k, v in forged]
    before = queued_jobs(redis_client)
    resp = requests.post(f"http://127.0.0.1:{app_port}/bitrix/handler", data=forged, timeout=10)
    assert resp.status_code == 401 and "application token" in resp.json()["error"]
    assert queued_jobs(redis_client) == before
    with served_app.app_context():
        tokens = db.session.scalars(select(HandlerCall.event_token)).all()
    assert "forged-event-token" not in tokens


def test_a_forged_event_token_is_caught_before_any_money_moves(
    installed, ctl, served_app, app_port, run_jobs
) -> None:
    _, call = _run(ctl, installed["deal_id"], {"amount": "5"})
    assert run_jobs() == 1
    ctl("DELETE", "requests")
    fields = dict(call["fields"])
    fields["event_token"] = fields["event_token"][:-4] + "beef"  # a bad signature
    resp = requests.post(f"http://127.0.0.1:{app_port}/bitrix/handler", data=fields, timeout=10)
    assert resp.status_code == 200
    assert run_jobs() == 1
    with served_app.app_context():
        forged = db.session.scalar(
            select(HandlerCall).where(HandlerCall.event_token == fields["event_token"])
        )
        assert forged.state == "forged"
    counts = ctl("GET", "requests")
    assert counts["batch_commands"].get("bizproc.activity.log") == 1
    assert "bizproc.event.send" not in counts["requests"]
    assert "bizproc.event.send" not in counts["batch_commands"]


def test_a_malformed_envelope_is_400_and_names_the_fields(installed, app_port) -> None:
    auth = {
        "auth[member_id]": installed["member_id"],
        "auth[application_token]": installed["app"]["application_token"],
    }
    resp = requests.post(
        f"http://127.0.0.1:{app_port}/bitrix/handler", data={**auth, "code": "x"}, timeout=10
    )
    assert resp.status_code == 400
    assert {"workflow_id", "document_id", "event_token"} <= set(resp.json()["errors"])
