"""Purchase, refund and the recovery GET: body shape and every status-code rule."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests
import requests_mock

from bizproc_app.linkly import (
    InvalidRequest,
    LinklyClient,
    LinklyUnavailable,
    Outcome,
    OutcomeUnknown,
    RecoveryState,
    SecretRejected,
    SessionNotFound,
    TerminalCredentials,
)
from tests.unit.linkly.helpers import (
    NOTIFY_AUTH,
    NOTIFY_URI,
    SESSION_ID,
    TOKEN_URL,
    TXN_REF,
    TokenServer,
    load_json,
    txn_url,
)


def purchase(client: LinklyClient, credentials: TerminalCredentials, **overrides: Any) -> Any:
    kwargs: dict[str, Any] = {
        "credentials": credentials,
        "session_id": SESSION_ID,
        "txn_ref": TXN_REF,
        "amount_cents": 1000,
        "notification_uri": NOTIFY_URI,
        "notification_authorization": NOTIFY_AUTH,
        "operator_id": 7,
        "operator_name": "Anna",
    }
    return client.purchase(**{**kwargs, **overrides})


def refund(client: LinklyClient, credentials: TerminalCredentials, **overrides: Any) -> Any:
    kwargs: dict[str, Any] = {
        "credentials": credentials,
        "session_id": SESSION_ID,
        "txn_ref": "REFUND0000000001",
        "amount_cents": 500,
        "rfn": "klmnop123",
        "notification_uri": NOTIFY_URI,
        "notification_authorization": NOTIFY_AUTH,
        "operator_id": 7,
        "operator_name": "Anna",
    }
    return client.refund(**{**kwargs, **overrides})


def test_purchase_request_shape(
    client: LinklyClient, credentials: TerminalCredentials, http: requests_mock.Mocker
) -> None:
    post = http.post(txn_url(), status_code=202, json={})
    result = purchase(client, credentials, operator_name="Alice|Admin\n", extra_pad={"SUR": "0"})
    assert result.accepted and result.result is None and result.status_code == 202
    sent = post.last_request
    assert sent.qs == {"async": ["true"]}
    assert sent.headers["Authorization"] == "Bearer tok-1"
    assert sent.timeout == (4, 33)
    assert sent.json() == {
        "Request": {
            "Merchant": "00",
            "Application": "00",
            "TxnType": "P",
            "AmtPurchase": 1000,
            "AmtCash": 0,
            "TxnRef": TXN_REF,
            "CurrencyCode": "AUD",
            "CutReceipt": "0",
            "ReceiptAutoPrint": "0",
            # OPR/AMT/PCM on every sale, as Linkly's samples send them; "|" cannot be in a name.
            "PurchaseAnalysisData": {
                "OPR": "7|AliceAdmin",
                "AMT": "0001000",
                "PCM": "0000",
                "SUR": "0",
            },
        },
        "Notification": {"Uri": NOTIFY_URI, "AuthorizationHeader": NOTIFY_AUTH},
    }


def test_refund_carries_the_original_rfn(
    client: LinklyClient, credentials: TerminalCredentials, http: requests_mock.Mocker
) -> None:
    post = http.post(txn_url(), status_code=202)
    refund(client, credentials)
    body = post.last_request.json()["Request"]
    assert (body["TxnType"], body["AmtPurchase"], body["TxnRef"]) == ("R", 500, "REFUND0000000001")
    assert body["PurchaseAnalysisData"] == {
        "OPR": "7|Anna", "AMT": "0000500", "PCM": "0000", "RFN": "klmnop123"
    }  # fmt: skip


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"txn_ref": "TOO-LONG-REF-0000000"}, "txn_ref"),
        ({"txn_ref": ""}, "txn_ref"),
        ({"amount_cents": 0}, "at least 1 cent"),
        ({"amount_cents": 1_000_000_000}, "at most"),
        ({"session_id": "not-a-uuid"}, "session_id"),
        ({"currency": "aud"}, "currency"),
        ({"receipt_auto_print": "1"}, "receipt_auto_print"),
        ({"notification_uri": "http://app.example.test/n"}, "https"),
        ({"notification_uri": ""}, "required"),
        ({"notification_authorization": ""}, "required"),
        ({"extra_pad": {"RFN": "x"}}, "RFN"),
        ({"extra_pad": {"AMT": "0000001"}}, "AMT"),
        ({"operator_id": -1}, "operator_id"),
        ({"extra_pad": {"toolong": "x"}}, "tag"),
    ],
)
def test_purchase_validation_sends_nothing(
    client: LinklyClient,
    credentials: TerminalCredentials,
    http: requests_mock.Mocker,
    overrides: dict[str, Any],
    message: str,
) -> None:
    with pytest.raises(ValueError, match=message):
        purchase(client, credentials, **overrides)
    assert http.call_count == 0


def test_purchase_rejects_float_cents(
    client: LinklyClient, credentials: TerminalCredentials, http: requests_mock.Mocker
) -> None:
    with pytest.raises(TypeError):
        purchase(client, credentials, amount_cents=10.0)
    assert http.call_count == 0


@pytest.mark.parametrize("rfn", ["", "   ", None])
def test_refund_requires_rfn(
    client: LinklyClient, credentials: TerminalCredentials, http: requests_mock.Mocker, rfn: Any
) -> None:
    with pytest.raises(ValueError, match="rfn"):
        refund(client, credentials, rfn=rfn)
    assert http.call_count == 0


def test_plain_http_notification_allowed_when_configured(
    make_client: Callable[..., LinklyClient],
    credentials: TerminalCredentials,
    http: requests_mock.Mocker,
    token_server: TokenServer,
) -> None:
    client = make_client(require_https_notification=False)
    http.post(txn_url(), status_code=202)
    assert purchase(client, credentials, notification_uri="http://127.0.0.1:5000/n").accepted


def test_sync_200_returns_the_final_result(
    client: LinklyClient, credentials: TerminalCredentials, http: requests_mock.Mocker
) -> None:
    http.post(txn_url(), json=load_json("transaction_pascal"))
    submitted = purchase(client, credentials)
    assert not submitted.accepted
    assert submitted.result is not None
    assert submitted.result.outcome is Outcome.APPROVED
    assert submitted.result.rfn == "klmnop123"


@pytest.mark.parametrize(
    "body", [{"sessionId": SESSION_ID, "response": None}, {}, {"ResponseType": "transaction"}]
)
def test_200_without_response_is_accepted_pending(
    client: LinklyClient, credentials: TerminalCredentials, http: requests_mock.Mocker, body: dict
) -> None:
    http.post(txn_url(), json=body)
    assert purchase(client, credentials).accepted


@pytest.mark.parametrize(
    "reply", [{"text": "<html>oops</html>"}, {"json": []}, {"json": {"response": "x"}}]
)
def test_unreadable_200_is_outcome_unknown(
    client: LinklyClient, credentials: TerminalCredentials, http: requests_mock.Mocker, reply: dict
) -> None:
    post = http.post(txn_url(), status_code=200, **reply)
    with pytest.raises(OutcomeUnknown) as err:
        purchase(client, credentials)
    assert err.value.reason == "unparseable"
    assert post.call_count == 1


def test_400_is_invalid_request_with_body(
    client: LinklyClient, credentials: TerminalCredentials, http: requests_mock.Mocker
) -> None:
    http.post(txn_url(), status_code=400, json={"message": "TxnRef invalid"})
    with pytest.raises(InvalidRequest) as err:
        purchase(client, credentials)
    assert "TxnRef invalid" in err.value.body
    assert err.value.session_id == SESSION_ID


def test_404_is_session_not_found(
    client: LinklyClient, credentials: TerminalCredentials, http: requests_mock.Mocker
) -> None:
    post = http.post(txn_url(), status_code=404)
    with pytest.raises(SessionNotFound):
        purchase(client, credentials)
    assert post.call_count == 1


UNKNOWN_REPLIES = [
    pytest.param({"status_code": 401}, "unauthorized", id="401"),
    pytest.param({"status_code": 403}, "http_403", id="403"),
    pytest.param({"status_code": 408}, "http_408", id="408"),
    pytest.param({"status_code": 429}, "http_429", id="429"),
    pytest.param({"status_code": 500}, "http_500", id="500"),
    pytest.param({"status_code": 502}, "http_502", id="502"),
    pytest.param({"status_code": 503}, "http_503", id="503"),
    pytest.param({"status_code": 504}, "http_504", id="504"),
    pytest.param({"exc": requests.ReadTimeout}, "timeout", id="read-timeout"),
    pytest.param({"exc": requests.ConnectTimeout}, "timeout", id="connect-timeout"),
    pytest.param({"exc": requests.ConnectionError}, "connection", id="connection-error"),
    pytest.param({"exc": requests.exceptions.ChunkedEncodingError}, "network", id="chunked"),
]


@pytest.mark.parametrize(("reply", "reason"), UNKNOWN_REPLIES)
@pytest.mark.parametrize("operation", [purchase, refund])
def test_unknown_outcome_is_never_re_sent(
    client: LinklyClient,
    credentials: TerminalCredentials,
    http: requests_mock.Mocker,
    token_server: TokenServer,
    operation: Callable[..., Any],
    reply: dict,
    reason: str,
) -> None:
    post = http.post(txn_url(), **reply)
    with pytest.raises(OutcomeUnknown) as err:
        operation(client, credentials)
    assert post.call_count == 1
    assert err.value.reason == reason
    assert err.value.session_id == SESSION_ID


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_redirect_on_post_is_not_followed(
    client: LinklyClient, credentials: TerminalCredentials, http: requests_mock.Mocker, status: int
) -> None:
    post = http.post(
        txn_url(), status_code=status, headers={"Location": "https://elsewhere.test/x"}
    )
    elsewhere = http.register_uri(requests_mock.ANY, "https://elsewhere.test/x", status_code=202)
    with pytest.raises(OutcomeUnknown) as err:
        purchase(client, credentials)
    assert err.value.reason == f"http_{status}"
    assert (post.call_count, elsewhere.call_count) == (1, 0)


def test_401_on_post_drops_the_token_without_re_posting(
    client: LinklyClient,
    credentials: TerminalCredentials,
    http: requests_mock.Mocker,
    token_server: TokenServer,
) -> None:
    post = http.post(txn_url(), status_code=401)
    with pytest.raises(OutcomeUnknown):
        purchase(client, credentials)
    assert post.call_count == 1
    assert token_server.calls == 1
    assert client.token(credentials=credentials) == "tok-2"


@pytest.mark.parametrize(
    ("reply", "error"),
    [({"status_code": 401}, SecretRejected), ({"status_code": 503}, LinklyUnavailable)],
)
def test_token_failure_before_post_sends_no_purchase(
    make_client: Callable[..., LinklyClient],
    credentials: TerminalCredentials,
    http: requests_mock.Mocker,
    reply: dict,
    error: type[Exception],
) -> None:
    http.post(TOKEN_URL, **reply)
    post = http.post(txn_url(), status_code=202)
    with pytest.raises(error):
        purchase(make_client(), credentials)
    assert post.call_count == 0


# --- recovery GET ----------------------------------------------------------------------


def test_recovery_get_shape(
    client: LinklyClient, credentials: TerminalCredentials, http: requests_mock.Mocker
) -> None:
    get = http.get(txn_url(), json=load_json("transaction_camel"))
    recovered = client.transaction_status(credentials=credentials, session_id=SESSION_ID)
    assert recovered.state is RecoveryState.FINAL
    assert recovered.session_id == SESSION_ID
    assert recovered.result is not None and recovered.result.txn_ref == TXN_REF
    sent = get.last_request
    assert sent.body is None
    assert sent.headers["Authorization"] == "Bearer tok-1"
    assert sent.timeout == (4, 21)


@pytest.mark.parametrize(
    ("reply", "state"),
    [
        ({"status_code": 200, "json": load_json("transaction_pascal")}, RecoveryState.FINAL),
        (
            {"status_code": 200, "json": {"SessionId": SESSION_ID, "Response": None}},
            RecoveryState.IN_PROGRESS,
        ),
        ({"status_code": 202, "json": {}}, RecoveryState.IN_PROGRESS),
        ({"status_code": 202, "text": ""}, RecoveryState.IN_PROGRESS),
        ({"status_code": 404}, RecoveryState.NOT_FOUND),
    ],
)
def test_recovery_states(
    client: LinklyClient,
    credentials: TerminalCredentials,
    http: requests_mock.Mocker,
    reply: dict,
    state: RecoveryState,
) -> None:
    http.get(txn_url(), **reply)
    assert client.transaction_status(credentials=credentials, session_id=SESSION_ID).state is state


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        ({"status_code": 400}, InvalidRequest),
        ({"status_code": 408}, OutcomeUnknown),
        ({"status_code": 429}, OutcomeUnknown),
        ({"status_code": 500}, OutcomeUnknown),
        ({"status_code": 502}, OutcomeUnknown),
        ({"status_code": 503}, OutcomeUnknown),
        ({"status_code": 200, "text": "garbage"}, OutcomeUnknown),
        ({"exc": requests.ReadTimeout}, OutcomeUnknown),
        ({"exc": requests.ConnectionError}, OutcomeUnknown),
    ],
)
def test_recovery_failures(
    client: LinklyClient,
    credentials: TerminalCredentials,
    http: requests_mock.Mocker,
    reply: dict,
    error: type[Exception],
) -> None:
    get = http.get(txn_url(), **reply)
    with pytest.raises(error):
        client.transaction_status(credentials=credentials, session_id=SESSION_ID)
    assert get.call_count == 1


def test_recovery_401_renews_the_token_and_retries_once(
    client: LinklyClient,
    credentials: TerminalCredentials,
    http: requests_mock.Mocker,
    token_server: TokenServer,
) -> None:
    get = http.get(
        txn_url(),
        [{"status_code": 401}, {"status_code": 200, "json": load_json("transaction_pascal")}],
    )
    recovered = client.transaction_status(credentials=credentials, session_id=SESSION_ID)
    assert recovered.state is RecoveryState.FINAL
    assert [r.headers["Authorization"] for r in get.request_history] == [
        "Bearer tok-1",
        "Bearer tok-2",
    ]


def test_recovery_401_twice_stays_unknown(
    client: LinklyClient, credentials: TerminalCredentials, http: requests_mock.Mocker
) -> None:
    get = http.get(txn_url(), status_code=401)
    with pytest.raises(OutcomeUnknown) as err:
        client.transaction_status(credentials=credentials, session_id=SESSION_ID)
    assert err.value.reason == "unauthorized"
    assert get.call_count == 2


def test_recovery_with_token_host_down_stays_unknown(
    make_client: Callable[..., LinklyClient],
    credentials: TerminalCredentials,
    http: requests_mock.Mocker,
) -> None:
    http.post(TOKEN_URL, exc=requests.ConnectionError)
    with pytest.raises(OutcomeUnknown) as err:
        make_client().transaction_status(credentials=credentials, session_id=SESSION_ID)
    assert err.value.reason == "token_unavailable"


def test_recovery_rejects_bad_session_id(
    client: LinklyClient, credentials: TerminalCredentials
) -> None:
    with pytest.raises(ValueError):
        client.transaction_status(credentials=credentials, session_id="x/../../pairing")
