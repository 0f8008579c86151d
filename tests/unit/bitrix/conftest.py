"""Fixtures for the Bitrix24 client: settings, a token store, the refresher, bucket and client."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
import redis
import requests

from bizproc_app.bitrix import (
    BitrixClient,
    BitrixSettings,
    LeakyBucket,
    MemoryTokenStore,
    OAuthClient,
    OperatingLimits,
    PortalTokens,
    TokenRefresher,
)
from bizproc_app.bitrix.redact import QuerySecretFilter
from tests.unit.bitrix.helpers import (
    CLIENT_ENDPOINT,
    CLIENT_SECRET,
    MEMBER_ID,
    OAUTH_URL,
    OLD_ACCESS,
    OLD_REFRESH,
)


@pytest.fixture(autouse=True)
def _mask_mock_transport_logs() -> Iterator[None]:
    """requests-mock logs full URLs where urllib3 would: give it urllib3's secret filter."""
    logger = logging.getLogger("requests_mock.adapter")
    secret_filter = QuerySecretFilter()
    logger.addFilter(secret_filter)
    yield
    logger.removeFilter(secret_filter)


@pytest.fixture
def settings() -> BitrixSettings:
    """Settings pointing at a fake OAuth host, with small back-off numbers."""
    return BitrixSettings(oauth_url=OAUTH_URL, client_id="local.app.1", client_secret=CLIENT_SECRET)


@pytest.fixture
def store() -> MemoryTokenStore:
    """A token store holding the portal's current (soon expired) pair."""
    return MemoryTokenStore({MEMBER_ID: PortalTokens(OLD_ACCESS, OLD_REFRESH, 0.0)})


@pytest.fixture
def session() -> Iterator[requests.Session]:
    """A requests session (requests_mock intercepts its transport)."""
    with requests.Session() as s:
        yield s


@pytest.fixture
def oauth(settings: BitrixSettings, session: requests.Session) -> OAuthClient:
    """The OAuth client on the fake host."""
    return OAuthClient(settings, session=session, clock=lambda: 1_000_000.0)


@pytest.fixture
def refresher(
    oauth: OAuthClient, store: MemoryTokenStore, redis_client: redis.Redis
) -> TokenRefresher:
    """A refresher locking in the test's Redis database."""
    return TokenRefresher(oauth, store, redis_client, lock_timeout=10)


@pytest.fixture
def bucket(redis_client: redis.Redis) -> LeakyBucket:
    """The shared leaky bucket in the test's Redis database."""
    return LeakyBucket(redis_client)


@pytest.fixture
def limits(redis_client: redis.Redis) -> OperatingLimits:
    """The portal's blocked methods, in the test's Redis database, on the client's fixed clock."""
    return OperatingLimits(redis_client, clock=lambda: 1_000_000.0)


@pytest.fixture
def sleeps() -> list[float]:
    """Every delay the client asked to sleep."""
    return []


@pytest.fixture
def make_client(settings, store, refresher, bucket, limits, session, sleeps):
    """Build a client for the portal; keyword arguments override the defaults."""

    def build(**overrides):
        chosen = overrides.pop("settings", settings)
        kwargs = {
            "member_id": MEMBER_ID,
            "client_endpoint": CLIENT_ENDPOINT,
            "token_store": store,
            "refresher": refresher,
            "bucket": bucket,
            "limits": limits,
            "session": session,
            "sleep": sleeps.append,
            "rng": lambda: 0.5,
            "clock": lambda: 1_000_000.0,
        }
        kwargs.update(overrides)
        return BitrixClient(chosen, **kwargs)

    return build


@pytest.fixture
def client(make_client):
    """A client with the default fixtures."""
    return make_client()
