"""Secrets, passwords, tokens and notification headers never reach logs or error messages."""

from __future__ import annotations

import ast
import json
import logging
from pathlib import Path

import pytest
import requests
import requests_mock

import bizproc_app.linkly
from bizproc_app.linkly import (
    InvalidRequest,
    LinklyClient,
    LinklyError,
    OutcomeUnknown,
    PairingRejected,
    SecretRejected,
    TerminalCredentials,
    Unauthorized,
)
from tests.unit.linkly.helpers import (
    NOTIFY_AUTH,
    NOTIFY_URI,
    PAIR_CODE,
    PAIR_URL,
    PASSWORD,
    SECRET,
    SESSION_ID,
    TOKEN_URL,
    TXN_REF,
    USERNAME,
    TokenServer,
    txn_url,
)

SENSITIVE = [SECRET, PASSWORD, PAIR_CODE, "tok-1", "tok-2", NOTIFY_AUTH, "notify-secret"]


def assert_clean(text: str) -> None:
    for value in SENSITIVE:
        assert value not in text, f"{value!r} leaked"


def error_text(error: LinklyError) -> str:
    return " ".join([str(error), repr(error), error.body, repr(error.args)])


def purchase(client: LinklyClient, credentials: TerminalCredentials) -> None:
    client.purchase(
        credentials=credentials,
        session_id=SESSION_ID,
        txn_ref=TXN_REF,
        amount_cents=1000,
        notification_uri=NOTIFY_URI,
        notification_authorization=NOTIFY_AUTH,
        operator_id=7,
        operator_name="Anna",
    )


@pytest.fixture(autouse=True)
def _debug_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)


def test_pairing_and_token_errors_are_clean(
    client: LinklyClient,
    credentials: TerminalCredentials,
    http: requests_mock.Mocker,
    caplog: pytest.LogCaptureFixture,
) -> None:
    http.post(PAIR_URL, status_code=401, text=f"bad password {PASSWORD} for {USERNAME}")
    with pytest.raises(PairingRejected) as pair_err:
        client.pair(username=USERNAME, password=PASSWORD, pair_code=PAIR_CODE)
    http.post(TOKEN_URL, status_code=401, json={"secret": SECRET})
    with pytest.raises(SecretRejected) as token_err:
        client.token(credentials=credentials)
    for err in (pair_err.value, token_err.value):
        assert_clean(error_text(err))
    assert_clean(caplog.text)
    assert "/v1/pairing/cloudpos -> 401" in caplog.text


@pytest.mark.parametrize(
    "reply",
    [
        {
            "json": {
                "Request": {"TxnRef": TXN_REF},
                "Notification": {"AuthorizationHeader": NOTIFY_AUTH},
            }
        },
        {"json": {"errors": [{"secret": SECRET, "authorization": "Bearer tok-1"}]}},
        {"text": f"Invalid header Authorization: Bearer tok-1; notify {NOTIFY_AUTH}; s={SECRET}"},
    ],
)
def test_invalid_request_body_is_scrubbed(
    client: LinklyClient,
    credentials: TerminalCredentials,
    http: requests_mock.Mocker,
    caplog: pytest.LogCaptureFixture,
    reply: dict,
) -> None:
    http.post(txn_url(), status_code=400, **reply)
    with pytest.raises(InvalidRequest) as err:
        purchase(client, credentials)
    assert_clean(error_text(err.value))
    assert "***" in err.value.body
    assert_clean(caplog.text)


def test_scrubbed_json_body_keeps_useful_fields(
    client: LinklyClient, credentials: TerminalCredentials, http: requests_mock.Mocker
) -> None:
    http.post(txn_url(), status_code=400, json={"message": "TxnRef invalid", "token": "tok-1"})
    with pytest.raises(InvalidRequest) as err:
        purchase(client, credentials)
    assert json.loads(err.value.body) == {"message": "TxnRef invalid", "token": "***"}


@pytest.mark.parametrize(
    "reply",
    [
        {"status_code": 500, "text": f"oops {SECRET}"},
        {"status_code": 401},
        {"exc": requests.ConnectionError(f"reset tok-1 {SECRET}")},
    ],
)
def test_unknown_outcomes_are_clean(
    client: LinklyClient,
    credentials: TerminalCredentials,
    http: requests_mock.Mocker,
    caplog: pytest.LogCaptureFixture,
    reply: dict,
) -> None:
    http.post(txn_url(), **reply)
    with pytest.raises(OutcomeUnknown) as err:
        purchase(client, credentials)
    assert_clean(error_text(err.value))
    assert_clean(caplog.text)
    assert "outcome unknown" in caplog.text


def test_rest_401_is_clean(
    client: LinklyClient,
    credentials: TerminalCredentials,
    http: requests_mock.Mocker,
    caplog: pytest.LogCaptureFixture,
) -> None:
    http.post(f"{txn_url().rsplit('/', 1)[0]}/status", status_code=401, text="Bearer tok-1 expired")
    with pytest.raises(Unauthorized) as err:
        client.status(credentials=credentials, session_id=SESSION_ID)
    assert_clean(error_text(err.value))
    assert_clean(caplog.text)


def test_successful_flow_logs_nothing_secret(
    client: LinklyClient,
    credentials: TerminalCredentials,
    http: requests_mock.Mocker,
    token_server: TokenServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    http.post(PAIR_URL, json={"secret": SECRET})
    client.pair(username=USERNAME, password=PASSWORD, pair_code=PAIR_CODE)
    http.post(txn_url(), status_code=202)
    purchase(client, credentials)
    http.get(txn_url(), status_code=202)
    client.transaction_status(credentials=credentials, session_id=SESSION_ID)
    assert_clean(caplog.text)
    assert "-> 202" in caplog.text


def test_linkly_package_never_imports_flask() -> None:
    package = Path(bizproc_app.linkly.__file__).parent
    for path in package.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            assert not any(n.split(".")[0] == "flask" for n in names), path.name
