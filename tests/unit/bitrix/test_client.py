"""BitrixClient: calls, token refresh, back-off, throttling, masking."""

from __future__ import annotations

import json
import logging
from datetime import date
from decimal import Decimal

import pytest
import requests

from bizproc_app.bitrix import (
    AccessDenied,
    BadRequest,
    BitrixSettings,
    BitrixUnavailable,
    ExpiredToken,
    InvalidGrant,
    LeakyBucket,
    OperatingLimits,
    OperationTimeLimit,
    QueryLimitExceeded,
    WorkflowNotFound,
)
from tests.unit.bitrix.helpers import (
    CLIENT_ENDPOINT,
    CLIENT_SECRET,
    MEMBER_ID,
    OAUTH_URL,
    OLD_ACCESS,
    OLD_REFRESH,
    TOKEN_URL,
    expired,
    token_json,
)

URL = f"{CLIENT_ENDPOINT}crm.deal.get.json"
LIMIT = {"error": "QUERY_LIMIT_EXCEEDED", "error_description": "Too many requests"}


def test_call_posts_json_with_auth_in_the_body(client, requests_mock) -> None:
    requests_mock.post(URL, json={"result": {"ID": "8061"}, "time": {"duration": 0.1}})
    params = {"id": 8061, "amount": Decimal("10.50"), "day": date(2025, 1, 2)}
    response = client.call("crm.deal.get", params)
    assert response.result == {"ID": "8061"}
    assert (response.total, response.next, response.time) == (None, None, {"duration": 0.1})
    request = requests_mock.request_history[0]
    assert request.url == URL
    assert request.headers["Content-Type"] == "application/json"
    assert request.json() == {
        "id": 8061,
        "amount": "10.50",
        "day": "2025-01-02",
        "auth": OLD_ACCESS,
    }
    assert request.timeout == (5.0, 30.0)
    assert OLD_ACCESS not in request.url
    assert params == {"id": 8061, "amount": Decimal("10.50"), "day": date(2025, 1, 2)}


@pytest.mark.parametrize(
    "method", ["../app.info", "crm.deal.get?x=1", "", "crm..get", "a/b", "x.json#"]
)
def test_bad_method_names(client, method) -> None:
    with pytest.raises(ValueError):
        client.call(method)


def test_auth_parameter_is_refused(client) -> None:
    with pytest.raises(ValueError):
        client.call("crm.deal.get", {"auth": "x"})


def test_client_endpoint_is_checked(make_client) -> None:
    for bad in [
        "http://portal.example.test/rest/",
        "https://portal.example.test/api/",
        "https://p/rest/x/",
    ]:
        with pytest.raises(ValueError):
            make_client(client_endpoint=bad)
    settings = BitrixSettings(
        oauth_url="http://127.0.0.1:1", client_id="c", client_secret="s", allow_http=True
    )
    make_client(client_endpoint="http://127.0.0.1:9/rest/", settings=settings)


def test_expired_token_refreshes_once_and_retries_once(client, store, requests_mock) -> None:
    requests_mock.post(URL, [{"status_code": 401, "json": expired()}, {"json": {"result": True}}])
    token = requests_mock.get(TOKEN_URL, json=token_json(1))
    assert client.call("crm.deal.get", {"id": 1}).result is True
    assert token.call_count == 1
    posts = [r for r in requests_mock.request_history if r.method == "POST"]
    assert [p.json()["auth"] for p in posts] == [OLD_ACCESS, "access-new-1"]
    saved = store.load(MEMBER_ID)
    assert (saved.access_token, saved.refresh_token) == ("access-new-1", "refresh-new-1")


def test_expired_twice_gives_up_after_one_refresh(client, requests_mock) -> None:
    post = requests_mock.post(URL, status_code=401, json=expired())
    token = requests_mock.get(TOKEN_URL, json=token_json(1))
    with pytest.raises(ExpiredToken) as info:
        client.call("crm.deal.get")
    assert (token.call_count, post.call_count) == (1, 2)
    assert "access-new-1" not in str(info.value) and OLD_ACCESS not in str(info.value)


def test_invalid_grant_surfaces_typed(client, store, requests_mock) -> None:
    post = requests_mock.post(URL, status_code=401, json=expired())
    requests_mock.get(
        TOKEN_URL, status_code=400, json={"error": "invalid_grant", "error_description": "x"}
    )
    with pytest.raises(InvalidGrant):
        client.call("crm.deal.get")
    assert post.call_count == 1
    assert store.load(MEMBER_ID).refresh_token == OLD_REFRESH


def test_query_limit_backs_off_then_succeeds(client, requests_mock, sleeps) -> None:
    responses = [{"status_code": 503, "json": LIMIT}] * 3 + [{"json": {"result": 1}}]
    post = requests_mock.post(URL, responses)
    assert client.call("crm.deal.get").result == 1
    assert post.call_count == 4
    assert sleeps == [0.75, 1.5, 3.0]  # equal jitter with rng pinned at 0.5: 1, 2, 4 -> 3/4 of each


def test_back_off_is_capped_and_bounded(make_client, requests_mock, sleeps) -> None:
    settings = BitrixSettings(
        oauth_url=OAUTH_URL, client_id="c", client_secret="s", max_retries=6, backoff_cap=4.0
    )
    post = requests_mock.post(URL, status_code=503, json=LIMIT)
    client = make_client(settings=settings, rng=lambda: 1.0)
    with pytest.raises(QueryLimitExceeded):
        client.call("crm.deal.get")
    assert post.call_count == 7
    assert sleeps == [1.0, 2.0, 4.0, 4.0, 4.0, 4.0]


def test_operation_time_limit_waits_for_the_reset(make_client, requests_mock, redis_client) -> None:
    now, sleeps = [1_000_000.0], []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    client = make_client(
        clock=lambda: now[0], sleep=sleep, limits=OperatingLimits(redis_client, lambda: now[0])
    )
    blocked = {
        "error": "OPERATION_TIME_LIMIT",
        "error_description": "Method is blocked due to operation time limit.",
        "time": {"operating_reset_at": 1_000_010},
    }
    requests_mock.post(URL, [{"status_code": 429, "json": blocked}, {"json": {"result": 2}}])
    assert client.call("crm.deal.get").result == 2
    assert sleeps == [10.5]  # clock at 1_000_000, reset 10 s later, plus jitter


def test_operation_time_limit_far_away_is_raised(client, requests_mock, sleeps) -> None:
    blocked = {"error": "OPERATION_TIME_LIMIT", "time": {"operating_reset_at": 1_000_500}}
    post = requests_mock.post(URL, status_code=429, json=blocked)
    with pytest.raises(OperationTimeLimit) as info:
        client.call("crm.deal.get")
    assert info.value.operating_reset_at == 1_000_500
    assert (post.call_count, sleeps) == (1, [])


@pytest.mark.parametrize(
    ("status", "body", "cls"),
    [
        (403, {"error": "insufficient_scope", "error_description": ""}, AccessDenied),
        (400, {"error": 0, "error_description": "WorkflowNotFound"}, WorkflowNotFound),
        (500, {"error": "INTERNAL_SERVER_ERROR"}, BitrixUnavailable),
        (200, None, BitrixUnavailable),
        (200, {"time": {}}, BitrixUnavailable),
    ],
)
def test_other_errors_are_not_retried(client, requests_mock, sleeps, status, body, cls) -> None:
    kwargs = {"json": body} if body is not None else {"text": "<html>maintenance</html>"}
    post = requests_mock.post(URL, status_code=status, **kwargs)
    with pytest.raises(cls):
        client.call("crm.deal.get")
    assert (post.call_count, sleeps) == (1, [])


@pytest.mark.parametrize(
    "exc", [requests.ReadTimeout, requests.ConnectTimeout, requests.ConnectionError]
)
def test_transport_errors(client, requests_mock, exc) -> None:
    post = requests_mock.post(URL, exc=exc)
    with pytest.raises(BitrixUnavailable):
        client.call("crm.deal.get")
    assert post.call_count == 1


def test_redirects_are_not_followed(client, requests_mock) -> None:
    requests_mock.post(URL, status_code=302, headers={"Location": "https://elsewhere.test/rest/x"})
    with pytest.raises(BadRequest, match=r"REDIRECT.*elsewhere\.test"):
        client.call("crm.deal.get")
    assert len(requests_mock.request_history) == 1


def test_the_bucket_wait_is_slept(make_client, redis_client, requests_mock, sleeps) -> None:
    settings = BitrixSettings(
        oauth_url=OAUTH_URL, client_id="c", client_secret="s", burst=3, burst_margin=1
    )
    bucket = LeakyBucket(redis_client, clock=lambda: 1_700_000_000.0)
    client = make_client(settings=settings, bucket=bucket)
    requests_mock.post(URL, json={"result": True})
    for _ in range(4):
        client.call("crm.deal.get")
    assert sleeps == [0.5, 1.0]


def test_tokens_never_reach_logs_or_errors(client, requests_mock, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    requests_mock.post(
        URL,
        [
            {"status_code": 401, "json": expired()},
            {"status_code": 403, "json": {"error": "ACCESS_DENIED"}},
        ],
    )
    requests_mock.get(TOKEN_URL, json=token_json(1))
    with pytest.raises(AccessDenied) as info:
        client.call("crm.deal.get", {"id": 1, "nested": {"access_token": "inner-secret"}})
    text = caplog.text + str(info.value) + repr(info.value)
    for secret in [
        OLD_ACCESS,
        OLD_REFRESH,
        "access-new-1",
        "refresh-new-1",
        CLIENT_SECRET,
        "inner-secret",
    ]:
        assert secret not in text
    assert "crm.deal.get" in caplog.text


def test_client_secret_goes_only_to_the_oauth_host(client, oauth, requests_mock) -> None:
    requests_mock.post(URL, [{"status_code": 401, "json": expired()}, {"json": {"result": True}}])
    requests_mock.post(f"{CLIENT_ENDPOINT}batch.json", json={"result": {"result": {"a": 1}}})
    requests_mock.get(TOKEN_URL, json=token_json(1))
    requests_mock.get(f"{OAUTH_URL}/rest/app.info", json={"result": {"install": {}}})
    client.call("crm.deal.get")
    client.batch({"a": ("crm.deal.get", {"id": 1})})
    oauth.app_info(access_token="x")
    seen = set()
    for request in requests_mock.request_history:
        carried = CLIENT_SECRET in request.url or CLIENT_SECRET in (request.text or "")
        seen.add((request.netloc, carried))
    assert seen == {
        ("portal.example.test", False),
        ("oauth.example.test", True),
        ("oauth.example.test", False),
    }


def test_result_paging_members(client, requests_mock) -> None:
    requests_mock.post(
        f"{CLIENT_ENDPOINT}crm.deal.list.json", json={"result": [], "total": "120", "next": 50}
    )
    response = client.call("crm.deal.list")
    assert (response.total, response.next) == (120, 50)


def test_request_body_is_valid_json(client, requests_mock) -> None:
    requests_mock.post(URL, json={"result": True})
    client.call("crm.deal.get", {"title": "Zahlung über 100 €"})
    assert json.loads(requests_mock.request_history[0].body)["title"] == "Zahlung über 100 €"
