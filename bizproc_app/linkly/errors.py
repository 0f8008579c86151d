"""Typed errors raised by the Linkly Cloud client, and the one status-code mapping."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import requests


class CallKind(StrEnum):
    """Which kind of Linkly call failed; decides how a status code maps to an error."""

    PAIRING = "pairing"
    TOKEN = "token"  # noqa: S105 - a call label, not a credential
    TRANSACTION = "transaction"  # the money POST
    RECOVERY = "recovery"  # GET /v1/sessions/{sid}/transaction
    OTHER = "other"  # status, logon, reprintreceipt, sendkey


class LinklyError(Exception):
    """Base class of every error the Linkly client raises; messages never contain secrets."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        reason: str = "",
        body: str = "",
        session_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.body = body
        self.session_id = session_id


class PairingRejected(LinklyError):
    """Pairing refused: wrong username, password or pair code, or the code expired."""


class SecretRejected(LinklyError):
    """The auth host refused the pairing secret: the PIN pad must be paired again."""


class InvalidRequest(LinklyError):
    """HTTP 400: the request was invalid and not performed; `body` is the scrubbed reply."""


class SessionNotFound(LinklyError):
    """HTTP 404: Linkly does not know the session (for a transaction POST: not performed)."""


class Unauthorized(LinklyError):
    """The REST host refused the bearer token even after one renewal."""


class OutcomeUnknown(LinklyError):
    """The transaction may or may not have happened; resolve it only with the recovery GET."""


class LinklyUnavailable(LinklyError):
    """A non-money call failed with 408, 429, 5xx or a network error; nothing was charged."""


class ProtocolError(LinklyError):
    """Linkly answered with something the client cannot parse or did not expect."""


def _network_reason(cause: BaseException | None) -> str:
    if isinstance(cause, requests.Timeout):
        return "timeout"
    if isinstance(cause, requests.ConnectionError):
        return "connection"
    return "network"


def error_for(
    kind: CallKind,
    *,
    status: int | None = None,
    cause: BaseException | None = None,
    body: str = "",
    session_id: str | None = None,
) -> LinklyError:
    """Map a failed call (an HTTP status, or a network error when status is None) to its error.

    For the money calls (transaction POST and recovery GET) everything that does not prove the
    transaction was not performed (400, 404) is OutcomeUnknown, including unexpected codes
    such as 403 or 429: the recovery GET is the only thing that may resolve it.
    """
    money = kind in (CallKind.TRANSACTION, CallKind.RECOVERY)
    extra: dict[str, Any] = {"status": status, "session_id": session_id}
    if status is None:
        reason = _network_reason(cause)
        if money:
            return OutcomeUnknown(
                f"Linkly {kind} outcome unknown: {reason}", reason=reason, **extra
            )
        return LinklyUnavailable(f"Linkly {kind} call failed: {reason}", reason=reason, **extra)
    # Linkly's own mock answers 400 to bad pairing credentials, the real host 401.
    if kind is CallKind.PAIRING and status in (400, 401, 403):
        return PairingRejected(
            f"Linkly pairing rejected (HTTP {status}): check username, password and pair code",
            reason="rejected",
            **extra,
        )
    if kind is CallKind.TOKEN and status in (401, 403):
        return SecretRejected(
            f"Linkly refused the pairing secret (HTTP {status}): pair the PIN pad again",
            reason="rejected",
            **extra,
        )
    if status == 400:
        return InvalidRequest(
            f"Linkly rejected the {kind} request (HTTP 400); it was not performed",
            reason="invalid",
            body=body,
            **extra,
        )
    if status == 404 and kind in (CallKind.TRANSACTION, CallKind.OTHER):
        return SessionNotFound(
            f"Linkly {kind}: session not found (HTTP 404)", reason="not_found", **extra
        )
    if money:
        reason = "unauthorized" if status == 401 else f"http_{status}"
        return OutcomeUnknown(
            f"Linkly {kind} outcome unknown: HTTP {status}", reason=reason, **extra
        )
    if status in (401, 403):
        return Unauthorized(
            f"Linkly refused the token (HTTP {status})", reason="unauthorized", **extra
        )
    if status in (408, 429) or status >= 500:
        return LinklyUnavailable(
            f"Linkly {kind} call failed: HTTP {status}", reason=f"http_{status}", **extra
        )
    return ProtocolError(
        f"Linkly {kind} call: unexpected HTTP {status}", reason=f"http_{status}", **extra
    )
