"""Non-money calls: status, logon, reprintreceipt and sendkey."""

from __future__ import annotations

import re
from typing import Any

import pytest
import requests
import requests_mock

from bizproc_app.linkly import (
    InvalidRequest,
    Key,
    LinklyClient,
    LinklyUnavailable,
    LogonResult,
    ProtocolError,
    ReceiptReprint,
    SessionNotFound,
    StatusResult,
    TerminalCredentials,
    Unauthorized,
)
from tests.unit.linkly.helpers import API, SESSION_ID

OPS: list[tuple[str, str, dict[str, str], dict[str, Any], type]] = [
    (
        "status",
        "status",
        {"Merchant": "00", "StatusType": "0", "Application": "00"},
        {"Success": True, "ResponseCode": "00", "ResponseText": "OK", "LoggedOn": True},
        StatusResult,
    ),
    (
        "logon",
        "logon",
        {
            "Merchant": "00",
            "LogonType": " ",
            "Application": "00",
            "ReceiptAutoPrint": "0",
            "CutReceipt": "0",
        },
        {"success": True, "responseCode": "00", "responseText": "LOGON OK", "pinPadVersion": "1"},
        LogonResult,
    ),
    (
        "reprint_receipt",
        "reprintreceipt",
        {"Merchant": "00", "ReceiptAutoPrint": "0", "ReprintType": "2"},
        {"Success": True, "ResponseCode": "00", "ReceiptText": ["LINE 1", "LINE 2"]},
        ReceiptReprint,
    ),
]


def op_url(op: str, session_id: str = SESSION_ID) -> str:
    return f"{API}/v1/sessions/{session_id}/{op}"


@pytest.mark.parametrize(("method", "op", "request_body", "response", "model"), OPS)
def test_operation_request_and_parse(
    client: LinklyClient,
    credentials: TerminalCredentials,
    http: requests_mock.Mocker,
    method: str,
    op: str,
    request_body: dict[str, str],
    response: dict[str, Any],
    model: type,
) -> None:
    post = http.post(
        op_url(op), json={"SessionId": SESSION_ID, "ResponseType": op, "Response": response}
    )
    result = getattr(client, method)(credentials=credentials, session_id=SESSION_ID)
    assert isinstance(result, model)
    assert result.success is True
    sent = post.last_request
    assert sent.qs == {"async": ["false"]}
    assert sent.json() == {"Request": request_body}
    assert sent.headers["Authorization"] == "Bearer tok-1"
    assert sent.timeout == (4, 21)


def test_operation_mints_a_fresh_session_id_when_none_given(
    client: LinklyClient, credentials: TerminalCredentials, http: requests_mock.Mocker
) -> None:
    post = http.post(
        re.compile(rf"{re.escape(API)}/v1/sessions/[0-9a-f-]{{36}}/status"),
        json={"response": {"success": True, "loggedOn": False}},
    )
    assert client.status(credentials=credentials).logged_on is False
    client.status(credentials=credentials)
    paths = [r.path for r in post.request_history]
    assert len(paths) == 2 and paths[0] != paths[1]


@pytest.mark.parametrize(
    ("reply", "error", "calls"),
    [
        ({"status_code": 202, "json": {}}, LinklyUnavailable, 1),
        ({"status_code": 400, "json": {"message": "bad"}}, InvalidRequest, 1),
        ({"status_code": 404}, SessionNotFound, 1),
        ({"status_code": 401}, Unauthorized, 2),
        ({"status_code": 403}, Unauthorized, 1),
        ({"status_code": 408}, LinklyUnavailable, 1),
        ({"status_code": 429}, LinklyUnavailable, 1),
        ({"status_code": 500}, LinklyUnavailable, 1),
        ({"status_code": 503}, LinklyUnavailable, 1),
        ({"status_code": 418}, ProtocolError, 1),
        ({"status_code": 200, "text": "not json"}, ProtocolError, 1),
        ({"status_code": 200, "json": {"response": None}}, ProtocolError, 1),
        ({"exc": requests.ReadTimeout}, LinklyUnavailable, 1),
        ({"exc": requests.ConnectionError}, LinklyUnavailable, 1),
    ],
)
@pytest.mark.parametrize(
    ("method", "op"),
    [("status", "status"), ("logon", "logon"), ("reprint_receipt", "reprintreceipt")],
)
def test_operation_status_rules(
    client: LinklyClient,
    credentials: TerminalCredentials,
    http: requests_mock.Mocker,
    method: str,
    op: str,
    reply: dict,
    error: type[Exception],
    calls: int,
) -> None:
    post = http.post(op_url(op), **reply)
    with pytest.raises(error):
        getattr(client, method)(credentials=credentials, session_id=SESSION_ID)
    assert post.call_count == calls


def test_operation_401_then_success_uses_a_new_token(
    client: LinklyClient, credentials: TerminalCredentials, http: requests_mock.Mocker
) -> None:
    post = http.post(
        op_url("logon"), [{"status_code": 401}, {"json": {"response": {"success": True}}}]
    )
    assert client.logon(credentials=credentials, session_id=SESSION_ID).success
    assert [r.headers["Authorization"] for r in post.request_history] == [
        "Bearer tok-1",
        "Bearer tok-2",
    ]


@pytest.mark.parametrize(
    ("key", "value"),
    [(Key.CANCEL_OR_OK, "0"), (Key.YES, "1"), (Key.NO, "2"), (Key.AUTH, "3"), ("0", "0")],
)
def test_send_key_body(
    client: LinklyClient,
    credentials: TerminalCredentials,
    http: requests_mock.Mocker,
    key: Any,
    value: str,
) -> None:
    post = http.post(op_url("sendkey"), status_code=200, text="")
    assert (
        client.send_key(credentials=credentials, session_id=SESSION_ID, key=key, data="1234")
        is None
    )
    assert post.last_request.json() == {"Request": {"Key": value, "Data": "1234"}}
    assert post.last_request.timeout == (4, 21)


@pytest.mark.parametrize(("reply", "calls"), [({"status_code": 202}, 1), ({"status_code": 204}, 1)])
def test_send_key_accepts_any_2xx(
    client: LinklyClient,
    credentials: TerminalCredentials,
    http: requests_mock.Mocker,
    reply: dict,
    calls: int,
) -> None:
    post = http.post(op_url("sendkey"), **reply)
    client.send_key(credentials=credentials, session_id=SESSION_ID, key=Key.CANCEL_OR_OK)
    assert post.call_count == calls


@pytest.mark.parametrize(
    ("reply", "error", "calls"),
    [
        ({"status_code": 404}, SessionNotFound, 1),
        ({"status_code": 400}, InvalidRequest, 1),
        ({"status_code": 401}, Unauthorized, 2),
        ({"status_code": 500}, LinklyUnavailable, 1),
        ({"exc": requests.ConnectTimeout}, LinklyUnavailable, 1),
    ],
)
def test_send_key_failures(
    client: LinklyClient,
    credentials: TerminalCredentials,
    http: requests_mock.Mocker,
    reply: dict,
    error: type[Exception],
    calls: int,
) -> None:
    post = http.post(op_url("sendkey"), **reply)
    with pytest.raises(error):
        client.send_key(credentials=credentials, session_id=SESSION_ID, key=Key.CANCEL_OR_OK)
    assert post.call_count == calls


@pytest.mark.parametrize(("key", "data"), [("5", ""), ("CANCEL", ""), (Key.YES, "x" * 61)])
def test_send_key_validation(
    client: LinklyClient,
    credentials: TerminalCredentials,
    http: requests_mock.Mocker,
    key: Any,
    data: str,
) -> None:
    with pytest.raises(ValueError):
        client.send_key(credentials=credentials, session_id=SESSION_ID, key=key, data=data)
    assert http.call_count == 0


def test_send_key_data_limit_is_inclusive(
    client: LinklyClient, credentials: TerminalCredentials, http: requests_mock.Mocker
) -> None:
    http.post(op_url("sendkey"), status_code=200)
    client.send_key(credentials=credentials, session_id=SESSION_ID, key=Key.YES, data="x" * 60)
