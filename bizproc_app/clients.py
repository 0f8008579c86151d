"""Build the outside-API clients from the app's configuration."""

from __future__ import annotations

import redis
import requests

from bizproc_app.config import Config
from bizproc_app.crypto import SecretBox
from bizproc_app.linkly import LinklyClient, LinklySettings, RedisTokenStore


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
    return LinklyClient(
        linkly_settings(cfg), session=session or requests.Session(), token_store=store
    )
