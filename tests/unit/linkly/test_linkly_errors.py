"""The single status-code → error mapping, for every kind of call."""

from __future__ import annotations

import pytest
import requests

from bizproc_app.linkly import (
    CallKind,
    InvalidRequest,
    LinklyUnavailable,
    OutcomeUnknown,
    PairingRejected,
    ProtocolError,
    SecretRejected,
    SessionNotFound,
    Unauthorized,
    error_for,
)

P, T, X, R, OT = (
    CallKind.PAIRING,
    CallKind.TOKEN,
    CallKind.TRANSACTION,
    CallKind.RECOVERY,
    CallKind.OTHER,
)


@pytest.mark.parametrize(
    ("kind", "status", "expected"),
    [
        (P, 400, PairingRejected),
        (P, 401, PairingRejected),
        (P, 403, PairingRejected),
        (P, 408, LinklyUnavailable),
        (P, 500, LinklyUnavailable),
        (P, 418, ProtocolError),
        (T, 400, InvalidRequest),
        (T, 401, SecretRejected),
        (T, 403, SecretRejected),
        (T, 429, LinklyUnavailable),
        (T, 503, LinklyUnavailable),
        (X, 400, InvalidRequest),
        (X, 404, SessionNotFound),
        (X, 401, OutcomeUnknown),
        (X, 403, OutcomeUnknown),
        (X, 408, OutcomeUnknown),
        (X, 409, OutcomeUnknown),
        (X, 429, OutcomeUnknown),
        (X, 500, OutcomeUnknown),
        (X, 502, OutcomeUnknown),
        (X, 503, OutcomeUnknown),
        (X, 504, OutcomeUnknown),
        (R, 400, InvalidRequest),
        (R, 401, OutcomeUnknown),
        (R, 408, OutcomeUnknown),
        (R, 500, OutcomeUnknown),
        (R, 503, OutcomeUnknown),
        (OT, 400, InvalidRequest),
        (OT, 401, Unauthorized),
        (OT, 403, Unauthorized),
        (OT, 404, SessionNotFound),
        (OT, 408, LinklyUnavailable),
        (OT, 429, LinklyUnavailable),
        (OT, 500, LinklyUnavailable),
        (OT, 503, LinklyUnavailable),
        (OT, 418, ProtocolError),
    ],
)
def test_status_mapping(kind: CallKind, status: int, expected: type[Exception]) -> None:
    error = error_for(kind, status=status, session_id="sid")
    assert type(error) is expected
    assert error.status == status
    assert error.session_id == "sid"


@pytest.mark.parametrize(
    ("cause", "reason"),
    [
        (requests.ConnectTimeout(), "timeout"),
        (requests.ReadTimeout(), "timeout"),
        (requests.ConnectionError(), "connection"),
        (requests.exceptions.ChunkedEncodingError(), "network"),
    ],
)
@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        (X, OutcomeUnknown),
        (R, OutcomeUnknown),
        (OT, LinklyUnavailable),
        (P, LinklyUnavailable),
        (T, LinklyUnavailable),
    ],
)
def test_network_mapping(
    kind: CallKind, expected: type[Exception], cause: Exception, reason: str
) -> None:
    error = error_for(kind, cause=cause)
    assert type(error) is expected
    assert error.reason == reason
    assert error.status is None


def test_unauthorized_transaction_reason_and_invalid_body() -> None:
    assert error_for(X, status=401).reason == "unauthorized"
    assert error_for(X, status=502).reason == "http_502"
    assert error_for(OT, status=400, body="bad TxnRef").body == "bad TxnRef"
