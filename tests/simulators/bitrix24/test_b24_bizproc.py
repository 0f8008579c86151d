"""Robots: registration validation, handler calls, event.send, activity.log, timeouts."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.helpers.receivers import FormPostReceiver

from .conftest import ROBOT, Client

AUTH_KEYS = {
    "access_token",
    "expires",
    "expires_in",
    "scope",
    "domain",
    "server_endpoint",
    "status",
    "client_endpoint",
    "member_id",
    "user_id",
    "refresh_token",
    "application_token",
}


def run_robot(b24: Client, receiver: FormPostReceiver, amount: float = 150.0) -> dict[str, Any]:
    """Create a deal, move it to EXECUTING, return the handler call's form."""
    deal = b24.ctl("POST", "deals", {"fields": {"title": "POS", "opportunity": amount}})
    n = len(receiver.received)
    b24.ctl("POST", f"deals/{deal['id']}/move", {"stage_id": "EXECUTING", "user_id": 3})
    reqs = receiver.wait_for(lambda rs: len(rs) > n)
    return {"deal": deal, **reqs[-1]}


def test_registration_validation(b24: Client, receiver: FormPostReceiver) -> None:
    base = {**ROBOT, "HANDLER": receiver.base_url + "/h"}
    cases = [
        ({}, "ERROR_ACTIVITY_VALIDATION_FAILURE", "Empty data!"),
        ({**base, "CODE": ""}, "ERROR_ACTIVITY_VALIDATION_FAILURE", "Empty activity code!"),
        (
            {**base, "CODE": "bad code!"},
            "ERROR_ACTIVITY_VALIDATION_FAILURE",
            "Wrong activity code!",
        ),
        (
            {**base, "HANDLER": "ftp://x/y"},
            "ERROR_UNSUPPORTED_PROTOCOL",
            "Unsupported handler protocol",
        ),
        (
            {**base, "HANDLER": "https://elsewhere.example.com/h"},
            "ERROR_WRONG_HANDLER_URL",
            "Wrong handler URL",
        ),
        ({**base, "NAME": ""}, "ERROR_ACTIVITY_VALIDATION_FAILURE", "Empty activity NAME!"),
        (
            {**base, "PROPERTIES": {"1bad": {"Name": "x"}}},
            "ERROR_ACTIVITY_VALIDATION_FAILURE",
            "Wrong property key (1bad)!",
        ),
        (
            {**base, "PROPERTIES": {"ok": {"Type": "int"}}},
            "ERROR_ACTIVITY_VALIDATION_FAILURE",
            "Empty property NAME (ok)!",
        ),
    ]
    for params, error, text in cases:
        r = b24.call("bizproc.robot.add", params)
        assert (r.status_code, r.json()) == (400, {"error": error, "error_description": text})
    assert b24.ok("bizproc.robot.add", {**base, "code": "lower_keys_ok"} | {"CODE": None}) is True
    r = b24.call("bizproc.activity.add", {**base, "CODE": "lower_keys_ok"})
    assert r.json()["error"] == "ERROR_ACTIVITY_ALREADY_INSTALLED"
    assert b24.ok("bizproc.robot.list") == ["lower_keys_ok"]
    assert b24.ok("bizproc.activity.list") == []
    r = b24.call("bizproc.activity.update", {"CODE": "lower_keys_ok", "FIELDS": {"NAME": "x"}})
    assert r.json()["error"] == "ERROR_ACTIVITY_NOT_FOUND"
    r = b24.call("bizproc.robot.update", {"CODE": "lower_keys_ok", "FIELDS": {}})
    assert r.json()["error_description"] == "No fields to update"
    assert b24.ok("bizproc.robot.update", {"CODE": "lower_keys_ok", "FIELDS": {"NAME": "y"}})
    assert b24.ok("bizproc.robot.delete", {"code": "lower_keys_ok"}) is True
    assert b24.ok("bizproc.robot.list") == []


def test_stage_move_posts_handler_call(b24: Client, receiver: FormPostReceiver, robot) -> None:
    call = run_robot(b24, receiver, 150.0)
    form, deal = call["form"], call["deal"]
    assert call["path"] == "/b24/robot/pos-send"
    assert call["content_type"] == "application/x-www-form-urlencoded"
    assert call["user_agent"] == "Bitrix24 Webhook Engine"
    assert re.fullmatch(r"[0-9a-f]{14}\.\d{8}", form["workflow_id"])
    assert form["code"] == "pos_send"
    assert [form[f"document_id[{i}]"] for i in range(3)] == [
        "crm",
        "CCrmDocumentDeal",
        f"DEAL_{deal['id']}",
    ]
    assert [form[f"document_type[{i}]"] for i in range(3)] == ["crm", "CCrmDocumentDeal", "DEAL"]
    assert form["event_token"].startswith(form["workflow_id"] + "|A")
    assert form["properties[amount]"] == "150.0" and form["properties[invoice_id]"] == "7"
    assert form["use_subscription"] == "Y" and form["timeout_duration"] == "0"
    assert form["ts"].isdigit()
    auth = {k[5:-1]: v for k, v in form.items() if k.startswith("auth[")}
    assert set(auth) == AUTH_KEYS
    assert auth["user_id"] == "1"
    state = b24.ctl("GET", "state")
    assert auth["application_token"] == state["app"]["application_token"]
    assert auth["client_endpoint"] == b24.urls["rest"]
    assert b24.ok("user.current", token=auth["access_token"])["ID"] == "1"
    expected = {"workflow_id", "code", "event_token", "use_subscription", "timeout_duration", "ts"}
    assert {k for k in form if "[" not in k} == expected


def test_event_send_completes_once_with_types(
    b24: Client, receiver: FormPostReceiver, robot
) -> None:
    # The other reading of the sources: the portal converts to the declared types.
    b24.ctl("POST", "config", {"convert_returns": True})
    form = run_robot(b24, receiver)["form"]
    token = form["event_token"]
    assert b24.ok("bizproc.activity.log", {"EVENT_TOKEN": token, "LOG_MESSAGE": "sent"}) is True
    r = b24.call("bizproc.activity.log", {"event_token": token, "log_message": ""})
    assert r.json()["error"] == "ERROR_EMPTY_LOG_MESSAGE"
    wf = b24.ctl("GET", f"workflows/{form['workflow_id']}")
    assert wf["status"] == "running" and wf["waiting"]["code"] == "pos_send"
    rv = {
        "STATUS": "approved",
        "Approved": "true",
        "amount": "12,5",
        "attempts": "3.0",
        "unknown": "dropped",
    }
    assert (
        b24.ok(
            "bizproc.event.send",
            {"event_token": token, "return_values": rv, "log_message": "POS approved"},
        )
        is True
    )
    wf = b24.ctl("GET", f"workflows/{form['workflow_id']}")
    assert wf["status"] == "completed"
    assert wf["returns"]["pos_send"] == {
        "status": "approved",
        "approved": "Y",
        "amount": 12.5,
        "attempts": 3,
        "IsTimeout": 0,
    }
    messages = [line["message"] for line in wf["log"]]
    assert "sent" in messages and "POS approved" in messages
    r = b24.call("bizproc.event.send", {"event_token": token, "return_values": {}})
    assert (r.status_code, r.json()) == (
        403, {"error": "ACCESS_DENIED", "error_description": "Access denied!"}
    )  # fmt: skip
    b24.ctl("POST", "config", {"ended_workflow": "workflow_not_found"})
    r = b24.call("bizproc.event.send", {"event_token": token, "return_values": {}})
    assert r.status_code == 400
    assert r.json() == {"error": 0, "error_description": "WorkflowNotFound"}


def test_stale_token_on_live_workflow_is_ignored(b24: Client, receiver: FormPostReceiver) -> None:
    spec = {**ROBOT, "HANDLER": receiver.base_url + "/h"}
    b24.ok("bizproc.robot.add", spec)
    for _ in range(2):
        b24.ctl("POST", "automation", {"stage_id": "EXECUTING", "code": "pos_send"})
    deal = b24.ctl("POST", "deals", {"fields": {"title": "two robots"}})
    b24.ctl("POST", f"deals/{deal['id']}/move", {"stage_id": "EXECUTING"})
    first = receiver.wait_for(lambda rs: len(rs) == 1)[0]["form"]["event_token"]
    b24.ok("bizproc.event.send", {"event_token": first, "return_values": {"status": "one"}})
    second = receiver.wait_for(lambda rs: len(rs) == 2)[1]["form"]["event_token"]
    assert b24.ok("bizproc.event.send", {"event_token": first, "return_values": {}}) is True
    wf = b24.ctl("GET", "workflows")[0]
    assert wf["status"] == "running"
    b24.ok("bizproc.event.send", {"event_token": second, "return_values": {"status": "two"}})
    assert b24.ctl("GET", "workflows")[0]["status"] == "completed"


@pytest.mark.parametrize("method", ["bizproc.event.send", "bizproc.activity.log"])
def test_forged_token_refused(b24: Client, receiver: FormPostReceiver, robot, method: str) -> None:
    token = run_robot(b24, receiver)["form"]["event_token"]
    payload, _, sig = token.rpartition(".")
    forged = [payload + "." + ("0" * len(sig)), payload.replace("|A", "|B") + "." + sig, "x"]
    for bad in forged:
        r = b24.call(method, {"event_token": bad, "log_message": "hi"})
        assert (r.status_code, r.json()) == (
            403,
            {"error": "ACCESS_DENIED", "error_description": "Access denied!"},
        )


def test_timeout_sets_is_timeout(b24: Client, receiver: FormPostReceiver, robot) -> None:
    deal = b24.ctl("POST", "deals", {"fields": {"title": "t"}})
    wf = b24.ctl(
        "POST", "robots/run", {"id": deal["id"], "code": "pos_send", "timeout_duration": 60}
    )
    form = receiver.wait_for(lambda rs: len(rs) == 1)[0]["form"]
    assert form["timeout_duration"] == "60"
    b24.ctl("POST", "clock/advance", {"seconds": 61})
    done = b24.ctl("GET", f"workflows/{wf['id']}")
    assert done["status"] == "completed" and done["returns"]["pos_send"]["IsTimeout"] == 1
    r = b24.call("bizproc.event.send", {"event_token": form["event_token"]})
    assert r.json()["error"] == "ACCESS_DENIED"  # the token can no longer be used


def test_stage_change_terminates_waiting_workflow(
    b24: Client, receiver: FormPostReceiver, robot
) -> None:
    call = run_robot(b24, receiver)
    b24.ctl("POST", f"deals/{call['deal']['id']}/move", {"stage_id": "WON"})
    wf = b24.ctl("GET", f"workflows/{call['form']['workflow_id']}")
    assert wf["status"] == "terminated"


def test_change_stage_builtin_after_robot(b24: Client, receiver: FormPostReceiver, robot) -> None:
    b24.ctl(
        "POST",
        "automation",
        {
            "stage_id": "EXECUTING",
            "builtin": "change_stage",
            "target_stage": "WON",
            "condition": {"approved": "Y"},
        },
    )
    call = run_robot(b24, receiver)
    b24.ok(
        "bizproc.event.send",
        {"event_token": call["form"]["event_token"], "return_values": {"approved": "Y"}},
    )
    assert b24.ok("crm.deal.get", {"id": call["deal"]["id"]})["STAGE_ID"] == "WON"


def test_a_json_true_is_stored_as_sent_and_fails_a_y_condition(
    b24: Client, receiver: FormPostReceiver, robot
) -> None:
    b24.ctl(
        "POST",
        "automation",
        {"stage_id": "EXECUTING", "builtin": "change_stage", "target_stage": "WON",
         "condition": {"approved": "Y"}},
    )  # fmt: skip
    call = run_robot(b24, receiver)
    b24.ok(
        "bizproc.event.send",
        {"event_token": call["form"]["event_token"], "return_values": {"approved": True}},
    )
    wf = b24.ctl("GET", f"workflows/{call['form']['workflow_id']}")
    assert wf["returns"]["pos_send"]["approved"] is True  # not turned into "Y"
    assert b24.ok("crm.deal.get", {"id": call["deal"]["id"]})["STAGE_ID"] == "EXECUTING"


def test_unsubscribed_robot_completes_immediately(b24: Client, receiver: FormPostReceiver) -> None:
    spec = {**ROBOT, "CODE": "fire", "USE_SUBSCRIPTION": "N", "HANDLER": receiver.base_url + "/f"}
    b24.ok("bizproc.robot.add", spec)
    deal = b24.ctl("POST", "deals", {"fields": {"title": "n"}})
    wf = b24.ctl("POST", "robots/run", {"id": deal["id"], "code": "fire"})
    assert wf["status"] == "completed"
    assert receiver.wait_for(lambda rs: len(rs) == 1)[0]["form"]["use_subscription"] == "N"
