"""Operating limits (issue 14, item 5): a blocked method alone waits for its reset time.

Bitrix24 blocks one method at a time (429 OPERATION_TIME_LIMIT); a batch member's error carries
no time, so the reset time comes from that method's earlier successful answers (`result_time`).
OVERLOAD_LIMIT is support's manual block: not retried, kept for the admins until a call succeeds.
"""

from __future__ import annotations

from typing import Any

import pytest

from bizproc_app.bitrix import OperatingLimits, OperationTimeLimit, OverloadLimit
from tests.unit.bitrix.helpers import CLIENT_ENDPOINT, MEMBER_ID

BATCH_URL = f"{CLIENT_ENDPOINT}batch.json"
NOW = 1_000_000.0
RESET = NOW + 400  # far beyond the client's back-off cap: the method waits, the caller goes on


def _batch(results: dict[str, Any], errors: dict[str, Any], times: dict[str, Any]) -> Any:
    return {
        "result": {
            "result": results,
            "result_error": errors,
            "result_total": [],
            "result_next": [],
            "result_time": times,
        },
        "time": {"operating_reset_at": NOW + 600},
    }


def _sent(requests_mock: Any) -> list[list[str]]:
    return [list(r.json()["cmd"]) for r in requests_mock.request_history]


def test_a_blocked_batch_member_waits_for_the_reset_seen_on_its_last_success(
    client, requests_mock, limits
) -> None:
    blocked = {"error": "OPERATION_TIME_LIMIT", "error_description": "Method is blocked"}
    requests_mock.post(
        BATCH_URL,
        [
            {"json": _batch({"c": 11, "e": True}, {}, {"c": {"operating_reset_at": RESET}})},
            {"json": _batch({"e": True}, {"c": blocked}, {})},  # no time for the refused member
            {"json": _batch({"e": True}, {}, {})},
        ],
    )
    comment = ("crm.timeline.comment.add", {"fields": {"COMMENT": "x"}})
    event = ("bizproc.event.send", {"EVENT_TOKEN": "t"})
    assert client.batch({"c": comment, "e": event}).results == {"c": 11, "e": True}
    refused = client.batch({"c": comment, "e": event}).errors["c"]
    assert isinstance(refused, OperationTimeLimit) and refused.operating_reset_at == RESET

    # Until then the comment is not sent again, nor what uses its result; the event still is.
    uses = ("crm.timeline.comment.get", {"id": "$result[c]"})
    later = client.batch({"c": comment, "uses": uses, "e": event})
    assert set(later.errors) == {"c", "uses"} and later.results == {"e": True}
    assert all(e.operating_reset_at == RESET for e in later.errors.values())
    assert _sent(requests_mock) == [["c", "e"], ["c", "e"], ["e"]]
    assert limits.blocked(MEMBER_ID, ["crm.timeline.comment.add", "bizproc.event.send"]) == {
        "crm.timeline.comment.add": RESET
    }


def test_a_blocked_method_is_sent_again_once_its_reset_time_passed(
    make_client, requests_mock, redis_client
) -> None:
    clock = [NOW]
    limits = OperatingLimits(redis_client, clock=lambda: clock[0])
    client = make_client(limits=limits, clock=lambda: clock[0])
    blocked = {"error": "OPERATION_TIME_LIMIT", "time": {"operating_reset_at": RESET}}
    url = f"{CLIENT_ENDPOINT}crm.deal.get.json"
    post = requests_mock.post(
        url, [{"status_code": 429, "json": blocked}, {"json": {"result": 2, "time": {}}}]
    )
    other = requests_mock.post(f"{CLIENT_ENDPOINT}user.current.json", json={"result": {"ID": 1}})
    for _ in range(2):  # the 429, then refused here without asking
        with pytest.raises(OperationTimeLimit) as info:
            client.call("crm.deal.get")
        assert info.value.operating_reset_at == RESET
    assert client.call("user.current").result == {"ID": 1}  # another method is not held up
    assert (post.call_count, other.call_count) == (1, 1)
    clock[0] = RESET + 1
    assert client.call("crm.deal.get").result == 2
    assert post.call_count == 2


def test_overload_limit_is_not_retried_and_is_kept_for_the_admins_until_a_success(
    client, requests_mock, limits, sleeps
) -> None:
    url = f"{CLIENT_ENDPOINT}crm.deal.get.json"
    overload = {"error": "OVERLOAD_LIMIT", "error_description": "REST API is blocked"}
    post = requests_mock.post(
        url, [{"status_code": 503, "json": overload}, {"json": {"result": 1, "time": {}}}]
    )
    with pytest.raises(OverloadLimit) as info:
        client.call("crm.deal.get")
    assert info.value.retryable is False
    assert (post.call_count, sleeps) == (1, [])
    assert limits.overload(MEMBER_ID) == {
        "since": NOW,
        "method": "crm.deal.get",
        "description": "REST API is blocked",
    }
    client.call("crm.deal.get")
    assert limits.overload(MEMBER_ID) is None
