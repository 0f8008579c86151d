"""Fixtures for the Linkly client tests: settings, fake clock, token endpoint, Redis db 15."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
import requests
import requests_mock
from cryptography.fernet import Fernet

from bizproc_app.linkly import (
    LinklyClient,
    LinklySettings,
    MemoryTokenStore,
    RedisTokenStore,
    TerminalCredentials,
    TokenStore,
)
from tests.helpers.clocks import FakeClock
from tests.unit.linkly.helpers import API, AUTH, POS_ID, POS_VENDOR_ID, SECRET, TokenServer


@pytest.fixture
def settings() -> LinklySettings:
    """Client settings pointing at fake hosts (served by requests-mock)."""
    return LinklySettings(
        auth_url=AUTH,
        api_url=API,
        pos_vendor_id=POS_VENDOR_ID,
        pos_name="BizProc Linkly",
        pos_version="0.1.0",
        connect_timeout=4,
        read_timeout=21,
        transaction_read_timeout=33,
    )


@pytest.fixture
def credentials() -> TerminalCredentials:
    """One paired PIN pad."""
    return TerminalCredentials(secret=SECRET, pos_id=POS_ID)


@pytest.fixture
def clock() -> FakeClock:
    """A clock the test moves by hand."""
    return FakeClock()


@pytest.fixture
def http() -> Iterator[requests_mock.Mocker]:
    """requests-mock; any unregistered URL raises NoMockAddress."""
    with requests_mock.Mocker() as mocker:
        yield mocker


@pytest.fixture
def token_server(http: requests_mock.Mocker) -> TokenServer:
    """The fake token endpoint, registered on `http`."""
    return TokenServer().register(http)


@pytest.fixture
def make_client(settings: LinklySettings, clock: FakeClock) -> Callable[..., LinklyClient]:
    """Build a client; each gets its own requests.Session, like separate processes."""

    def build(store: TokenStore | None = None, **overrides: Any) -> LinklyClient:
        s = LinklySettings(**{**settings.__dict__, **overrides}) if overrides else settings
        return LinklyClient(
            s, session=requests.Session(), token_store=store or MemoryTokenStore(), clock=clock
        )

    return build


@pytest.fixture
def client(make_client: Callable[..., LinklyClient], token_server: TokenServer) -> LinklyClient:
    """A client with an in-memory token store and the fake token endpoint."""
    return make_client()


@pytest.fixture
def linkly_redis(redis_server_url: str) -> Iterator[redis.Redis]:
    """Redis database 15, flushed before and after the test."""
    conn = redis.Redis.from_url(f"{redis_server_url.rstrip('/')}/15")
    conn.flushdb()
    yield conn
    conn.flushdb()
    conn.close()


@pytest.fixture
def fernet() -> Fernet:
    """A fresh Fernet key for token encryption."""
    return Fernet(Fernet.generate_key())


@pytest.fixture
def make_redis_store(linkly_redis: redis.Redis, fernet: Fernet) -> Callable[..., RedisTokenStore]:
    """Build a RedisTokenStore on db 15 with Fernet str→str callables."""

    def build(conn: redis.Redis | None = None, **kwargs: Any) -> RedisTokenStore:
        return RedisTokenStore(
            conn or linkly_redis,
            encrypt=lambda s: fernet.encrypt(s.encode()).decode(),
            decrypt=lambda s: fernet.decrypt(s.encode()).decode(),
            **kwargs,
        )

    return build
