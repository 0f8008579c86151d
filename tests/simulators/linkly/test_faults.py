"""Fault injection through the /_sim/ control API."""

from __future__ import annotations

import pytest
import requests

from tests.helpers.waiting import wait_for
from tests.simulators.linkly.helpers import control, purchase


def arm(sim, fault: str, **spec) -> dict:
    """Arm a fault."""
    r = control(sim.base_url, "POST", "/faults", json={"fault": fault, **spec})
    assert r.status_code == 201, r.text
    return r.json()


@pytest.mark.parametrize("async_", [False, True])
def test_drop_response_charges_exactly_once(sim, pos, async_, note):
    arm(sim, "drop_response")
    sid = "6f1c1c52-0b55-4d7e-9a43-6f6f8a1d1e01"
    body = {**purchase(1000, "DROP1"), "notification": note}
    with pytest.raises(requests.ConnectionError):
        pos.post("transaction", body, sid=sid, async_=async_)
    env = pos.wait_result(sid)
    assert env["response"]["success"] is True
    ledger = control(sim.base_url, "GET", "/ledger?pinpad=1").json()["entries"]
    assert len(ledger) == 1 and ledger[0]["sessionId"] == sid and ledger[0]["txnRef"] == "DROP1"
    _, r = pos.post("transaction", purchase(1000, "AFTER"), async_=False)  # fault consumed
    assert r.status_code == 200


@pytest.mark.parametrize("status", [408, 500, 502, 503])
def test_http_error_on_post_processed(sim, pos, status):
    arm(sim, "http_error", params={"status": status, "on": "post", "processed": True})
    sid, r = pos.post("transaction", purchase(1000, "HE1"), async_=False)
    assert r.status_code == status
    assert pos.wait_result(sid)["response"]["success"] is True
    assert len(sim.ledger.entries()) == 1


def test_http_error_on_post_not_processed(sim, pos):
    arm(sim, "http_error", params={"status": 503, "processed": False})
    sid, r = pos.post("transaction", purchase(1000, "HE2"), async_=False)
    assert r.status_code == 503
    assert pos.get(sid).status_code == 404
    assert sim.ledger.entries() == []


def test_http_error_on_get_with_count(sim, pos):
    sid, _ = pos.post("transaction", purchase(1000, "HE3"), async_=False)
    arm(sim, "http_error", count=2, params={"status": 500, "on": "get"})
    assert pos.get(sid).status_code == 500
    assert pos.get(sid).status_code == 500
    assert pos.get(sid).status_code == 200


def test_token_expiry_mid_transaction(sim, pos):
    arm(sim, "token_expiry")
    sid, r = pos.post("transaction", purchase(1000, "TOK1"))
    assert r.status_code == 200  # the accepted request still completes
    assert pos.get(sid).status_code == 401
    assert pos.sendkey(sid, "0").status_code == 401
    pos.token = pos.new_token()
    assert pos.get(sid).status_code == 200


def test_events_duplicated_and_reordered(sim, pos, receiver, note):
    arm(sim, "events_duplicated", params={"types": ["transaction"], "times": 3})
    sid, _ = pos.post("transaction", {**purchase(100, "DUP"), "notification": note}, async_=True)
    receiver.wait_final(sid)
    wait_for(
        lambda: len([e for e in receiver.for_session(sid) if e["path"].endswith("/transaction")])
        == 3,
        5,
        step=0.01,
    )
    arm(sim, "events_reordered")
    sid, _ = pos.post("transaction", {**purchase(100, "REORD"), "notification": note}, async_=True)
    wait_for(lambda: len(receiver.for_session(sid)) >= 8, 5, step=0.01)
    kinds = [e["path"].rsplit("/", 1)[1] for e in receiver.for_session(sid)]
    assert kinds[0] == "transaction" and kinds.count("display") == 5


def test_events_lost_unreachable_and_retry(sim, pos, receiver, note):
    arm(sim, "events_lost", params={"types": ["display"]})
    sid, _ = pos.post("transaction", {**purchase(100, "LOST"), "notification": note}, async_=True)
    events = receiver.wait_final(sid)
    assert not [e for e in events if "display" in e["path"]]
    log = control(sim.base_url, "GET", f"/notifications?sessionId={sid}&type=display").json()
    assert log["deliveries"] and all(d["dropped"] for d in log["deliveries"])
    control(
        sim.base_url, "PATCH", "/config", json={"notify_retries": 2, "notify_retry_delay": 0.01}
    )
    arm(sim, "notify_unreachable")
    sid, _ = pos.post("transaction", {**purchase(100, "DOWN"), "notification": note}, async_=True)
    assert pos.wait_result(sid)["response"]["success"] is True
    wait_for(
        lambda: len(
            control(sim.base_url, "GET", f"/notifications?sessionId={sid}&type=transaction").json()[
                "deliveries"
            ]
        )
        == 3,
        5,
        step=0.01,
    )
    assert receiver.for_session(sid) == []


def test_events_delayed(sim, pos, receiver, note):
    arm(sim, "events_delayed", params={"seconds": 0.3})
    sid, _ = pos.post("transaction", {**purchase(100, "LATE"), "notification": note}, async_=True)
    pos.wait_result(sid)
    assert receiver.for_session(sid) == []
    assert receiver.wait_final(sid)[-1]["body"]["response"]["success"] is True


@pytest.mark.parametrize(
    ("fault", "code"), [("pinpad_offline", "PF"), ("no_response", "X0"), ("busy", "BY")]
)
def test_result_code_faults(sim, pos, fault, code):
    arm(sim, fault)
    _, r = pos.post("transaction", purchase(1000, fault[:16]), async_=False)
    resp = r.json()["response"]
    assert resp["responseCode"] == code and resp["success"] is False
    assert sim.ledger.entries() == []


def test_walk_away_and_scoped_faults(sim, pos):
    arm(sim, "walk_away", pinpad="2", params={"seconds": 0.1})  # other pad: not applied
    arm(sim, "walk_away", scope="run", pinpad="1", params={"seconds": 0.1})
    for ref in ("WALK1", "WALK2"):
        _, r = pos.post("transaction", purchase(1000, ref), async_=False)
        assert r.json()["response"]["responseCode"] == "TI"
    faults = control(sim.base_url, "GET", "/faults").json()["faults"]
    assert len(faults) == 2
    run_id = next(f["id"] for f in faults if f["scope"] == "run")
    assert control(sim.base_url, "DELETE", f"/faults/{run_id}").status_code == 200
    _, r = pos.post("transaction", purchase(1000, "WALK3"), async_=False)
    assert r.json()["response"]["success"] is True
    control(sim.base_url, "DELETE", "/faults")
    assert control(sim.base_url, "GET", "/faults").json()["faults"] == []
    assert control(sim.base_url, "POST", "/faults", json={"fault": "nope"}).status_code == 400
