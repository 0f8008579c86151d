"""Build the outside-API clients from the app's configuration."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace

import redis
import requests
from sqlalchemy.orm import Session

from bizproc_app.bitrix import (
    BitrixClient,
    BitrixSettings,
    LeakyBucket,
    OAuthClient,
    OperatingLimits,
    TokenRefresher,
)
from bizproc_app.config import Config
from bizproc_app.linkly import LinklyClient, LinklySettings, RedisTokenStore
from bizproc_app.models import Portal
from bizproc_app.portals.access import DbTokenStore
from bizproc_app.storage.secret_box import SecretBox

_local = threading.local()


def http_session() -> requests.Session:
    """One HTTP session per thread, so connections to Linkly and Bitrix24 are reused."""
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = requests.Session()
    return session


def linkly_settings(cfg: Config) -> LinklySettings:
    """Return the Linkly client's settings for this deployment."""
    return LinklySettings(
        auth_url=cfg.LINKLY_AUTH_URL,
        api_url=cfg.LINKLY_API_URL,
        pos_vendor_id=cfg.LINKLY_POS_VENDOR_ID,
        pos_name=cfg.LINKLY_POS_NAME,
        pos_version=cfg.LINKLY_POS_VERSION,
        read_timeout=cfg.LINKLY_TIMEOUT_SECONDS,
        transaction_read_timeout=cfg.LINKLY_TIMEOUT_SECONDS,
        # Linkly itself refuses plain http; only a local simulator accepts it.
        require_https_notification=cfg.is_production,
    )


def linkly_client(
    cfg: Config,
    *,
    redis_client: redis.Redis,
    box: SecretBox,
    session: requests.Session | None = None,
) -> LinklyClient:
    """Return a Linkly client whose token cache is shared through Redis, encrypted."""
    store = RedisTokenStore(redis_client, encrypt=box.encrypt, decrypt=box.decrypt)
    return LinklyClient(linkly_settings(cfg), session=session or http_session(), token_store=store)


def bitrix_settings(cfg: Config) -> BitrixSettings:
    """Return the Bitrix24 client's settings for this deployment."""
    return BitrixSettings(
        oauth_url=cfg.BITRIX_OAUTH_URL,
        client_id=cfg.BITRIX_CLIENT_ID,
        client_secret=cfg.BITRIX_CLIENT_SECRET,
        allow_http=cfg.BITRIX_ALLOW_HTTP,
    )


def oauth_client(cfg: Config, *, session: requests.Session | None = None) -> OAuthClient:
    """Return the client of Bitrix24's OAuth server (app.info, token refresh)."""
    return OAuthClient(bitrix_settings(cfg), session=session or http_session())


def bitrix_client(
    cfg: Config,
    portal: Portal,
    *,
    redis_client: redis.Redis,
    box: SecretBox,
    session_factory: Callable[[], Session],
    session: requests.Session | None = None,
) -> BitrixClient:
    """Return a REST client for one portal: its stored endpoint and tokens, its rate limit."""
    http = session or http_session()
    settings = replace(bitrix_settings(cfg), rate=portal.rate_limit, burst=portal.rate_burst)
    refresher, store = portal_token_refresher(
        cfg, redis_client=redis_client, box=box, session_factory=session_factory, session=http
    )
    return BitrixClient(
        settings,
        member_id=portal.member_id,
        client_endpoint=portal.client_endpoint,
        token_store=store,
        refresher=refresher,
        bucket=LeakyBucket(redis_client),
        limits=OperatingLimits(redis_client),
        session=http,
    )


def portal_token_refresher(
    cfg: Config,
    *,
    redis_client: redis.Redis,
    box: SecretBox,
    session_factory: Callable[[], Session],
    session: requests.Session | None = None,
) -> tuple[TokenRefresher, DbTokenStore]:
    """The one-at-a-time refresher of the portals' stored tokens, and their store."""
    store = DbTokenStore(session_factory, box)
    oauth = OAuthClient(bitrix_settings(cfg), session=session or http_session())
    return TokenRefresher(oauth, store, redis_client), store
