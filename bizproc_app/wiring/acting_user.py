"""Acting as one Bitrix24 user: a REST client with the tokens they presented, and who they are."""

from __future__ import annotations

from typing import Any

import redis

from bizproc_app.bitrix import (
    BitrixClient,
    BitrixError,
    LeakyBucket,
    MemoryTokenStore,
    OAuthClient,
    OperatingLimits,
    PortalTokens,
    TokenRefresher,
    TokenStore,
)
from bizproc_app.config import Config
from bizproc_app.wiring.clients import bitrix_settings, http_session


def user_client(
    cfg: Config,
    *,
    member_id: str,
    client_endpoint: str,
    store: TokenStore,
    redis_client: redis.Redis,
    lock_name: str,
) -> BitrixClient:
    """A REST client that calls as the user whose tokens `store` holds (never the app's).

    The portal's member id keys the shared rate limit; `lock_name` keys this user's own token
    refresh, so it never waits for (or blocks) the app's refresh.
    """
    http = http_session()
    settings = bitrix_settings(cfg)
    return BitrixClient(
        settings,
        member_id=member_id,
        client_endpoint=client_endpoint,
        token_store=store,
        refresher=TokenRefresher(
            OAuthClient(settings, session=http),
            store,
            redis_client,
            prefix=f"bitrix:user-refresh:{lock_name}:",
        ),
        bucket=LeakyBucket(redis_client),
        limits=OperatingLimits(redis_client),
        session=http,
    )


def presented_token(member_id: str, access_token: str, refresh_token: str = "") -> TokenStore:
    """A store holding only the tokens of one request (kept nowhere else)."""
    return MemoryTokenStore({member_id: PortalTokens(access_token, refresh_token, 0)})


def admin_flag(value: Any) -> bool:
    """user.admin's answer as a bool (Bitrix24 has answered true, 1 and "Y")."""
    return value in (True, 1, "1", "Y", "true")


def is_admin(client: BitrixClient) -> bool:
    """Whether the client's user administers the portal (`user.admin` with their own token)."""
    return admin_flag(client.call("user.admin").result)


def identify(client: BitrixClient) -> tuple[int, str, bool]:
    """(id, name, admin) of the client's user, in one batch."""
    found = client.batch({"me": ("user.current", {}), "admin": ("user.admin", {})})
    me = found.results.get("me")
    if found.errors or not isinstance(me, dict) or not str(me.get("ID", "")).isdigit():
        raise BitrixError("USER_UNKNOWN", "user.current failed")
    name = " ".join(str(me.get(k) or "") for k in ("NAME", "LAST_NAME")).strip()
    return int(me["ID"]), name or f"User {me['ID']}", admin_flag(found.results.get("admin"))
