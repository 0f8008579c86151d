"""Error mapping: every error shape and status lands on one typed error."""

from __future__ import annotations

import pytest

from bizproc_app.bitrix import (
    AccessDenied,
    AuthError,
    BadRequest,
    BitrixError,
    BitrixUnavailable,
    ExpiredToken,
    MethodNotFound,
    OperationTimeLimit,
    OverloadLimit,
    QueryLimitExceeded,
    WorkflowNotFound,
    error_from_response,
)


def err(code: object, description: str = "") -> dict[str, object]:
    """Return a Bitrix24 error body."""
    return {"error": code, "error_description": description}


CASES = [
    # (status, body, class, normalised code)
    (
        401,
        err("expired_token", "The access token provided has expired."),
        ExpiredToken,
        "expired_token",
    ),
    (401, err("invalid_token", "Unable to get application by token"), AuthError, "invalid_token"),
    (401, err("NO_AUTH_FOUND", "Wrong authorization data"), AuthError, "NO_AUTH_FOUND"),
    (401, err("authorization_error"), AuthError, "authorization_error"),
    (401, err("ERROR_OAUTH", "Application not installed"), AuthError, "ERROR_OAUTH"),
    (401, err("APPLICATION_NOT_FOUND"), AuthError, "APPLICATION_NOT_FOUND"),
    (401, err("PAYMENT_REQUIRED", "Subscription has been ended"), AuthError, "PAYMENT_REQUIRED"),
    (401, err("SOMETHING_NEW"), AuthError, "SOMETHING_NEW"),
    (403, err("insufficient_scope"), AccessDenied, "insufficient_scope"),
    (403, err("ACCESS_DENIED", "Access denied!"), AccessDenied, "ACCESS_DENIED"),
    (403, err("INVALID_CREDENTIALS"), AccessDenied, "INVALID_CREDENTIALS"),
    (403, err("user_access_error"), AccessDenied, "user_access_error"),
    (403, err("WRONG_AUTH_TYPE", "Application context required"), AccessDenied, "WRONG_AUTH_TYPE"),
    (403, err(""), AccessDenied, ""),
    (400, err("ACCESS_DENIED"), AccessDenied, "ACCESS_DENIED"),
    (
        404,
        err("ERROR_METHOD_NOT_FOUND", "Method not found!"),
        MethodNotFound,
        "ERROR_METHOD_NOT_FOUND",
    ),
    (404, None, MethodNotFound, ""),
    (405, err("ERROR_BATCH_METHOD_NOT_ALLOWED"), BadRequest, "ERROR_BATCH_METHOD_NOT_ALLOWED"),
    (400, err("ERROR_BATCH_LENGTH_EXCEEDED"), BadRequest, "ERROR_BATCH_LENGTH_EXCEEDED"),
    (400, err("INVALID_REQUEST", "Https required"), BadRequest, "INVALID_REQUEST"),
    (400, err("", "Access denied."), BadRequest, ""),
    (400, err(0, "Something"), BadRequest, "0"),
    (400, err(100, "Required fields"), BadRequest, "100"),
    (400, err(200640400001, "Payment not found"), BadRequest, "200640400001"),
    (
        400,
        err({"code": "BITRIX_REST_V3_X", "message": "Bad thing"}),
        BadRequest,
        "BITRIX_REST_V3_X",
    ),
    (400, err(None), BadRequest, ""),
    (400, err(0, "WorkflowNotFound"), WorkflowNotFound, "0"),
    (400, err("", "WorkflowNotFound"), WorkflowNotFound, ""),
    (200, err(0, "WorkflowNotFound"), WorkflowNotFound, "0"),
    (200, err(""), BadRequest, ""),
    (200, err(0), BadRequest, "0"),
    (
        429,
        err("OPERATION_TIME_LIMIT", "Method is blocked"),
        OperationTimeLimit,
        "OPERATION_TIME_LIMIT",
    ),
    (429, None, OperationTimeLimit, ""),
    (
        503,
        err("QUERY_LIMIT_EXCEEDED", "Too many requests"),
        QueryLimitExceeded,
        "QUERY_LIMIT_EXCEEDED",
    ),
    (503, err("OVERLOAD_LIMIT"), OverloadLimit, "OVERLOAD_LIMIT"),
    (503, None, BitrixUnavailable, ""),
    (500, err("INTERNAL_SERVER_ERROR"), BitrixUnavailable, "INTERNAL_SERVER_ERROR"),
    (500, err("ERROR_UNEXPECTED_ANSWER"), BitrixUnavailable, "ERROR_UNEXPECTED_ANSWER"),
    (502, None, BitrixUnavailable, ""),
    (500, ["not", "an", "object"], BitrixUnavailable, ""),
    (418, None, BadRequest, ""),
    (None, err("insufficient_scope"), AccessDenied, "insufficient_scope"),
    (None, err("OPERATION_TIME_LIMIT"), OperationTimeLimit, "OPERATION_TIME_LIMIT"),
    (None, err(0, "boom"), BadRequest, "0"),
]


@pytest.mark.parametrize(("status", "body", "cls", "code"), CASES)
def test_error_mapping(status, body, cls, code) -> None:
    error = error_from_response(status, body, method="crm.deal.get")
    assert type(error) is cls
    assert error.code == code
    assert error.status == status
    assert error.method == "crm.deal.get"
    assert str(error).startswith("crm.deal.get: ")


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (200, {"result": True}),
        (200, {"result": []}),
        (200, {"result": False, "time": {}}),
        (200, None),
        (200, ["x"]),
        (302, None),
    ],
)
def test_no_error(status, body) -> None:
    assert error_from_response(status, body) is None


def test_object_code_keeps_message_as_description() -> None:
    error = error_from_response(400, {"error": {"code": "X", "message": "Bad", "validation": []}})
    assert (error.code, error.description) == ("X", "Bad")


def test_extra_keys_and_reset_time_are_kept() -> None:
    body = {
        "error": "OPERATION_TIME_LIMIT",
        "error_description": "blocked",
        "argument": "x",
        "time": {"operating_reset_at": 1757425271},
    }
    error = error_from_response(429, body)
    assert isinstance(error, OperationTimeLimit)
    assert error.operating_reset_at == 1757425271.0
    assert error.details["argument"] == "x"
    assert error_from_response(429, {"error": "OPERATION_TIME_LIMIT"}).operating_reset_at is None


def test_retryable_flags() -> None:
    assert QueryLimitExceeded("x").retryable and OperationTimeLimit("x").retryable
    assert BitrixUnavailable("x").retryable
    assert not AuthError("x").retryable and not BadRequest("x").retryable
    assert issubclass(WorkflowNotFound, BadRequest) and issubclass(BadRequest, BitrixError)


def test_non_json_body_is_not_echoed() -> None:
    error = error_from_response(502, None)
    assert error.description == "non-JSON response"


def test_constructor_defaults() -> None:
    error = BitrixError(0)
    assert (error.code, error.description, error.status, error.method) == ("0", "", None, None)
    assert str(BitrixError("")) == "<empty>"
