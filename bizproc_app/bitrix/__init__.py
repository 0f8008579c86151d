"""Bitrix24 REST client: OAuth refresh under a Redis lock, a shared leaky bucket, typed errors.

No Flask or SQLAlchemy here; the app supplies a TokenStore and the Redis connection.
"""

from __future__ import annotations

from .batch import BATCH_LIMIT, BatchResult, prefixed
from .client import BitrixClient, RestResponse
from .errors import (
    AccessDenied,
    AuthError,
    BadRequest,
    BitrixError,
    BitrixUnavailable,
    ExpiredToken,
    InvalidClient,
    InvalidGrant,
    MethodNotFound,
    OAuthError,
    OperationTimeLimit,
    OverloadLimit,
    QueryLimitExceeded,
    WorkflowNotFound,
    error_from_response,
)
from .forms import http_build_query, parse_bracket_form
from .oauth import (
    AppInfo,
    BitrixSettings,
    OAuthClient,
    TokenResponse,
    resolves_publicly,
    validate_client_endpoint,
)
from .operating import OVERLOAD_ADVICE, OperatingLimits
from .ratelimit import LeakyBucket
from .redact import mask, mask_query
from .tokens import MemoryTokenStore, PortalTokens, TokenRefresher, TokenStore

__all__ = [
    "BATCH_LIMIT",
    "OVERLOAD_ADVICE",
    "AccessDenied",
    "AppInfo",
    "AuthError",
    "BadRequest",
    "BatchResult",
    "BitrixClient",
    "BitrixError",
    "BitrixSettings",
    "BitrixUnavailable",
    "ExpiredToken",
    "InvalidClient",
    "InvalidGrant",
    "LeakyBucket",
    "MemoryTokenStore",
    "MethodNotFound",
    "OAuthClient",
    "OAuthError",
    "OperatingLimits",
    "OperationTimeLimit",
    "OverloadLimit",
    "PortalTokens",
    "QueryLimitExceeded",
    "RestResponse",
    "TokenRefresher",
    "TokenResponse",
    "TokenStore",
    "WorkflowNotFound",
    "error_from_response",
    "http_build_query",
    "mask",
    "mask_query",
    "parse_bracket_form",
    "prefixed",
    "resolves_publicly",
    "validate_client_endpoint",
]
