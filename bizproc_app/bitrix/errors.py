"""Typed Bitrix24 errors and the one function that maps a response to them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

AUTH_CODES = frozenset(
    {
        "INVALID_TOKEN",
        "NO_AUTH_FOUND",
        "AUTHORIZATION_ERROR",
        "ERROR_OAUTH",
        "APPLICATION_NOT_FOUND",
        "PAYMENT_REQUIRED",
        "PORTAL_DELETED",
    }
)
ACCESS_CODES = frozenset(
    {
        "INSUFFICIENT_SCOPE",
        "ACCESS_DENIED",
        "INVALID_CREDENTIALS",
        "USER_ACCESS_ERROR",
        "WRONG_AUTH_TYPE",
    }
)
UNAVAILABLE_CODES = frozenset({"INTERNAL_SERVER_ERROR", "ERROR_UNEXPECTED_ANSWER"})


def normalise_code(code: object) -> str:
    """Return the `error` value as a string: "", 0, 200640400001 and {code, message} all fit."""
    if code is None:
        return ""
    if isinstance(code, Mapping):
        return normalise_code(code.get("code"))
    return str(code)


class BitrixError(Exception):
    """Any failure of a Bitrix24 or OAuth call; `retryable` tells transient ones apart."""

    retryable: ClassVar[bool] = False

    def __init__(
        self,
        code: object = "",
        description: object = "",
        status: int | None = None,
        method: str | None = None,
        *,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        if isinstance(code, Mapping) and not description:
            description = code.get("message") or ""
        self.code = normalise_code(code)
        self.description = "" if description is None else str(description)
        self.status = status
        self.method = method
        self.details = dict(details or {})
        super().__init__(self._message())

    def _message(self) -> str:
        where = f"{self.method}: " if self.method else ""
        status = f" (HTTP {self.status})" if self.status is not None else ""
        code = self.code or "<empty>"
        text = f": {self.description}" if self.description else ""
        return f"{where}{code}{text}{status}"


class ExpiredToken(BitrixError):
    """401 expired_token: refresh the access token and retry once."""


class AuthError(BitrixError):
    """The token is bad or the app was removed/unpaid: the portal needs a new install or auth."""


class AccessDenied(BitrixError):
    """403: missing scope or rights, or a method that needs another kind of auth."""


class MethodNotFound(BitrixError):
    """404: unknown method (ERROR_METHOD_NOT_FOUND) or a wrong REST endpoint."""


class BadRequest(BitrixError):
    """Any other 4xx: the request itself is wrong; retrying will not help."""


class WorkflowNotFound(BadRequest):
    """bizproc.event.send: the workflow has ended; the event token is dead."""


class QueryLimitExceeded(BitrixError):
    """503 QUERY_LIMIT_EXCEEDED: the portal's leaky bucket overflowed."""

    retryable = True


class OperationTimeLimit(BitrixError):
    """429 OPERATION_TIME_LIMIT: the method is blocked until `operating_reset_at` (epoch)."""

    retryable = True

    @property
    def operating_reset_at(self) -> float | None:
        """Return the server's reset time when the error body carried one."""
        value = self.details.get("operating_reset_at")
        try:
            return float(value) if value is not None else None
        except (TypeError, ValueError):
            return None


class OverloadLimit(BitrixError):
    """503 OVERLOAD_LIMIT: Bitrix24 support blocked the app by hand; no retry lifts it."""


class BitrixUnavailable(BitrixError):
    """5xx, an unreadable answer, a timeout or a connection error; the outcome may be unknown."""

    retryable = True


class OAuthError(BitrixError):
    """The OAuth server refused a token request."""


class InvalidGrant(OAuthError):
    """invalid_grant: the refresh token is dead (used, expired or revoked)."""


class InvalidClient(OAuthError):
    """invalid_client: bad client_id/client_secret, or the app is not installed."""


def error_from_response(
    status: int | None, body: object, *, method: str | None = None
) -> BitrixError | None:
    """Map an HTTP status and decoded JSON body (None if not JSON) to an error, or None if OK.

    Errors are detected by the presence of the `error` key and by the status, never by the
    truthiness of `error`, which may be "", 0 or an object. `status` is None for batch members.
    """
    if isinstance(body, Mapping) and "error" in body:
        raw_code = body["error"]
        description = body.get("error_description") or ""
        details = {k: v for k, v in body.items() if k not in ("error", "error_description")}
        time_info = body.get("time")
        if isinstance(time_info, Mapping) and "operating_reset_at" in time_info:
            details["operating_reset_at"] = time_info["operating_reset_at"]
    elif status is None or status < 400:
        return None
    else:
        raw_code, description, details = "", _describe(body), {}
    cls = _classify(status, normalise_code(raw_code).upper(), str(description))
    return cls(raw_code, description, status, method, details=details)


def _describe(body: object) -> str:
    """Describe a body without an `error` key, never echoing it (it may contain secrets)."""
    return "non-JSON response" if body is None else "response without an error code"


def _classify(status: int | None, code: str, description: str) -> type[BitrixError]:
    """Pick the error class: the code first, then the HTTP status."""
    if description.strip() == "WorkflowNotFound":
        return WorkflowNotFound
    by_code = {
        "EXPIRED_TOKEN": ExpiredToken,
        "QUERY_LIMIT_EXCEEDED": QueryLimitExceeded,
        "OPERATION_TIME_LIMIT": OperationTimeLimit,
        "OVERLOAD_LIMIT": OverloadLimit,
        "ERROR_METHOD_NOT_FOUND": MethodNotFound,
    }
    if code in by_code:
        return by_code[code]
    if code in AUTH_CODES:
        return AuthError
    if code in ACCESS_CODES:
        return AccessDenied
    if code in UNAVAILABLE_CODES:
        return BitrixUnavailable
    if status is None or status < 400:
        return BadRequest
    by_status = {401: AuthError, 403: AccessDenied, 404: MethodNotFound, 429: OperationTimeLimit}
    if status in by_status:
        return by_status[status]
    return BitrixUnavailable if status >= 500 else BadRequest
