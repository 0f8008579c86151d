"""Users, the installed app, OAuth tokens and webhooks of the simulated portal."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .config import SimConfig
from .util import ApiError, Clock, hex_id

USERS: list[dict[str, Any]] = [
    {
        "ID": 1,
        "NAME": "Anna",
        "LAST_NAME": "Admin",
        "EMAIL": "admin@example.com",
        "ADMIN": True,
        "WORK_POSITION": "Director",
        "UF_DEPARTMENT": [1],
        "UF_PHONE_INNER": "101",
        "PERSONAL_GENDER": "F",
    },
    {
        "ID": 2,
        "NAME": "Bob",
        "LAST_NAME": "Cashier",
        "EMAIL": "bob@example.com",
        "ADMIN": False,
        "WORK_POSITION": "Cashier",
        "UF_DEPARTMENT": [1],
        "UF_PHONE_INNER": "102",
        "PERSONAL_GENDER": "M",
    },
    {
        "ID": 3,
        "NAME": "Carol",
        "LAST_NAME": "Sales",
        "EMAIL": "carol@example.com",
        "ADMIN": False,
        "WORK_POSITION": "Sales manager",
        "UF_DEPARTMENT": [2],
        "UF_PHONE_INNER": "103",
        "PERSONAL_GENDER": "F",
    },
]


@dataclass
class Token:
    """An access token, refresh token or authorization code."""

    value: str
    kind: str
    user_id: int
    scope: list[str]
    expires: float
    used: bool = False


@dataclass
class AppState:
    """The one installed application."""

    installed: bool
    version: int
    application_token: str = field(default_factory=hex_id)
    revoked: bool = False


@dataclass
class Caller:
    """Who is calling a REST method."""

    user_id: int
    scope: list[str]
    is_app: bool
    token: str = ""
    is_admin: bool = False  # a portal administrator (TokenStore.admins, as of this call)


class TokenStore:
    """Issues and checks tokens (all state lives in memory)."""

    def __init__(self, cfg: SimConfig, clock: Clock) -> None:
        self.cfg = cfg
        self.clock = clock
        self.tokens: dict[str, Token] = {}
        self.webhooks: dict[str, int] = {}
        # Who administers the portal now (`PUT /_sim/users/<id>/admin` changes it).
        self.admins: set[int] = {int(u["ID"]) for u in USERS if u["ADMIN"]}

    def issue(self, user_id: int, scope: list[str] | None = None, ttl: int | None = None) -> dict:
        """Mint a fresh access + refresh token pair for a user."""
        now = self.clock.now()
        scope = scope if scope is not None else self.cfg.scope_list()
        ttl = self.cfg.access_ttl if ttl is None else ttl
        access = Token(hex_id(64), "access", user_id, scope, now + ttl)
        refresh = Token(hex_id(64), "refresh", user_id, scope, now + self.cfg.refresh_ttl)
        self.tokens[access.value] = access
        self.tokens[refresh.value] = refresh
        return {
            "access_token": access.value,
            "refresh_token": refresh.value,
            "expires": int(access.expires),
            "expires_in": ttl,
            "user_id": user_id,
            "scope": ",".join(scope),
        }

    def issue_code(self, user_id: int) -> str:
        """Mint an authorization code (30 s, single use)."""
        code = Token(
            hex_id(64), "code", user_id, self.cfg.scope_list(), self.clock.now() + self.cfg.code_ttl
        )
        self.tokens[code.value] = code
        return code.value

    def redeem(self, value: str, kind: str) -> Token | None:
        """Use a refresh token or code once; None when unknown, used or expired."""
        tok = self.tokens.get(value)
        if tok is None or tok.kind != kind or tok.expires < self.clock.now():
            return None
        if tok.used and (kind == "code" or self.cfg.rotate_refresh):
            return None
        tok.used = True
        return tok

    def expire_all(self) -> int:
        """Expire every access token now; return how many."""
        n = 0
        for tok in self.tokens.values():
            if tok.kind == "access" and tok.expires > self.clock.now():
                tok.expires = self.clock.now() - 1
                n += 1
        return n

    def revoke_all(self) -> None:
        """Forget every token (app removed)."""
        self.tokens.clear()

    def check(self, value: str, app: AppState) -> Caller:
        """Validate an access token; raise the portal's auth errors."""
        if not value:
            raise ApiError("NO_AUTH_FOUND", "Wrong authorization data", 401)
        if app.revoked:
            texts = {
                "invalid_token": "Unable to get application by token",
                "ERROR_OAUTH": "Application not installed",
                "APPLICATION_NOT_FOUND": "Application not found",
            }
            raise ApiError(self.cfg.revoked_error, texts[self.cfg.revoked_error], 401)
        tok = self.tokens.get(value)
        if tok is None or tok.kind != "access":
            desc = (
                "The access token provided is invalid."
                if self.cfg.garbage_token_error == "invalid_token"  # noqa: S105
                else "Wrong authorization data"
            )
            raise ApiError(self.cfg.garbage_token_error, desc, self.cfg.garbage_token_status)
        if tok.expires < self.clock.now():
            raise ApiError("expired_token", "The access token provided has expired.", 401)
        return Caller(tok.user_id, tok.scope, True, value, tok.user_id in self.admins)

    def check_webhook(self, user_id: int, code: str) -> Caller:
        """Validate an incoming-webhook URL."""
        if self.webhooks.get(code) != user_id:
            raise ApiError("NO_AUTH_FOUND", "Wrong authorization data", 401)
        scope = [*self.cfg.scope_list(), "user", "user_basic"]
        return Caller(user_id, scope, False, "", user_id in self.admins)

    def add_webhook(self, user_id: int) -> str:
        """Create an incoming webhook for a user; return its code."""
        code = hex_id(16)
        self.webhooks[code] = user_id
        return code


def find_user(user_id: Any) -> dict[str, Any] | None:
    """The user record with this id."""
    try:
        uid = int(user_id)
    except (TypeError, ValueError):
        return None
    return next((u for u in USERS if u["ID"] == uid), None)
