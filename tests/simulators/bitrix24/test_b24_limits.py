"""Leaky-bucket rate limit, operating-time limit and failure switches."""

from __future__ import annotations

import time

from .conftest import Client


def test_burst_beyond_50_gets_503_and_drains(make_sim) -> None:
    b24 = make_sim()
    codes = [b24.call("user.admin").status_code for _ in range(50)]
    assert codes == [200] * 50
    r = b24.call("user.admin")
    assert r.status_code == 503
    assert r.json() == {"error": "QUERY_LIMIT_EXCEEDED", "error_description": "Too many requests"}
    time.sleep(0.6)
    assert b24.call("user.admin").status_code == 200
    assert b24.call("user.admin").status_code == 503


def test_batch_counts_as_one_request(make_sim) -> None:
    b24 = make_sim(rate_burst=2)
    cmd = {str(i): "user.admin" for i in range(50)}
    assert b24.call("batch", {"cmd": cmd}).status_code == 200
    assert b24.call("batch", {"cmd": cmd}).status_code == 200
    assert b24.call("user.admin").status_code == 503


def test_no_rate_limit(b24: Client) -> None:
    assert all(b24.call("user.admin").status_code == 200 for _ in range(70))


def test_operating_time_limit_429(b24: Client) -> None:
    seen = b24.call("crm.deal.list").json()["time"]["operating_reset_at"]  # on every success
    b24.ctl("POST", "operating", {"method": "crm.deal.list", "seconds": 481})
    r = b24.call("crm.deal.list")
    assert r.status_code == 429 and r.json()["error"] == "OPERATION_TIME_LIMIT"
    assert r.json()["time"]["operating_reset_at"] == seen  # the 429 carries `time` too
    assert b24.call("user.admin").status_code == 200  # only the one method is blocked
    body = b24.call("batch", {"cmd": {"x": "crm.deal.list", "y": "user.admin"}}).json()
    assert body["result"]["result_error"]["x"] == {
        "error": "OPERATION_TIME_LIMIT",
        "error_description": "Method is blocked due to operation time limit.",
    }  # a batch member's error carries no time; the successful member's result_time does
    assert "x" not in body["result"]["result_time"] and "y" in body["result"]["result_time"]


def test_overload_limit_blocks_every_call_until_lifted(b24: Client) -> None:
    b24.ctl("POST", "faults", {"overload_limit": True})
    for method in ("user.admin", "batch"):
        r = b24.call(method, {"cmd": {"x": "user.admin"}} if method == "batch" else None)
        assert r.status_code == 503 and r.json()["error"] == "OVERLOAD_LIMIT"
    b24.ctl("POST", "faults", {"overload_limit": False})
    assert b24.call("user.admin").status_code == 200


def test_fault_switches(b24: Client) -> None:
    b24.ctl("POST", "faults", {"fail_next": 2, "fail_method": "crm.deal.list"})
    assert b24.call("user.admin").status_code == 200
    r = b24.call("crm.deal.list")
    assert r.status_code == 500 and r.json()["error"] == "INTERNAL_SERVER_ERROR"
    assert b24.call("crm.deal.list").status_code == 500
    assert b24.call("crm.deal.list").status_code == 200
    b24.ctl("POST", "faults", {"down_calls": 1})
    assert b24.call("user.admin").status_code == 503
    assert b24.call("user.admin").status_code == 200
    b24.ctl("POST", "faults", {"delay": 0.3})
    t0 = time.monotonic()
    b24.call("user.admin")
    assert time.monotonic() - t0 >= 0.3
    b24.ctl("POST", "faults/reset")
    b24.ctl("POST", "faults", {"payment_required": True})
    assert b24.call("user.admin").json()["error"] == "PAYMENT_REQUIRED"
