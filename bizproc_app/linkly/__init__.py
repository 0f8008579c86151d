"""Python client for the Linkly Cloud REST API (v1) that drives EFTPOS PIN pads."""

from __future__ import annotations

from bizproc_app.linkly.client import LinklyClient
from bizproc_app.linkly.config import (
    PRODUCTION_API_URL,
    PRODUCTION_AUTH_URL,
    SANDBOX_API_URL,
    SANDBOX_AUTH_URL,
    LinklySettings,
    TerminalCredentials,
)
from bizproc_app.linkly.errors import (
    CallKind,
    InvalidRequest,
    LinklyError,
    LinklyUnavailable,
    OutcomeUnknown,
    PairingRejected,
    ProtocolError,
    SecretRejected,
    SessionNotFound,
    Unauthorized,
    error_for,
)
from bizproc_app.linkly.models import (
    DEFAULT_CANCEL_CODES,
    LogonResult,
    Outcome,
    ReceiptReprint,
    RecoveryResult,
    RecoveryState,
    StatusResult,
    SubmitResult,
    TransactionResult,
)
from bizproc_app.linkly.money import (
    cents_to_decimal,
    format_cents,
    new_session_id,
    new_txn_ref,
    to_cents,
    validate_cents,
    validate_session_id,
    validate_txn_ref,
)
from bizproc_app.linkly.notifications import (
    DisplayEvent,
    Notification,
    ReceiptEvent,
    parse_notification,
)
from bizproc_app.linkly.payloads import Key
from bizproc_app.linkly.tokens import (
    CachedToken,
    MemoryTokenStore,
    RedisTokenStore,
    TokenStore,
    token_cache_key,
)

__all__ = [
    "DEFAULT_CANCEL_CODES",
    "PRODUCTION_API_URL",
    "PRODUCTION_AUTH_URL",
    "SANDBOX_API_URL",
    "SANDBOX_AUTH_URL",
    "CachedToken",
    "CallKind",
    "DisplayEvent",
    "InvalidRequest",
    "Key",
    "LinklyClient",
    "LinklyError",
    "LinklySettings",
    "LinklyUnavailable",
    "LogonResult",
    "MemoryTokenStore",
    "Notification",
    "Outcome",
    "OutcomeUnknown",
    "PairingRejected",
    "ProtocolError",
    "ReceiptEvent",
    "ReceiptReprint",
    "RecoveryResult",
    "RecoveryState",
    "RedisTokenStore",
    "SecretRejected",
    "SessionNotFound",
    "StatusResult",
    "SubmitResult",
    "TerminalCredentials",
    "TokenStore",
    "TransactionResult",
    "Unauthorized",
    "cents_to_decimal",
    "error_for",
    "format_cents",
    "new_session_id",
    "new_txn_ref",
    "parse_notification",
    "to_cents",
    "token_cache_key",
    "validate_cents",
    "validate_session_id",
    "validate_txn_ref",
]
