"""Fixtures: private Redis, SQLite and (when configured) PostgreSQL, the app, no network."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator

import pytest
import redis
from sqlalchemy import text

from bizproc_app import create_app
from bizproc_app.config import Config
from bizproc_app.extensions import make_engine
from bizproc_app.storage import migrate
from tests.helpers.loopback import is_loopback, start_redis

pytest_plugins = ["tests.bitrix_fixtures", "tests.payment_fixtures"]

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "")
DATABASES = ["sqlite", "postgres"] if POSTGRES_URL else ["sqlite"]


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any test that tries to reach beyond loopback."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def guard(address: object) -> None:
        if not is_loopback(address):
            raise RuntimeError(f"test tried to reach the network: {address!r}")

    def connect(self: socket.socket, address: object) -> None:
        guard(address)
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: object) -> int:
        guard(address)
        return real_connect_ex(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)


@pytest.fixture(scope="session")
def redis_server_url() -> Iterator[str]:
    """A Redis server for the whole run: TEST_REDIS_URL (no db number), else a private one."""
    if os.environ.get("TEST_REDIS_URL"):
        yield os.environ["TEST_REDIS_URL"]
        return
    proc, url = start_redis()
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def redis_url(redis_server_url: str) -> str:
    """A flushed Redis database for one test."""
    url = f"{redis_server_url.rstrip('/')}/1"
    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()
    return url


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    """A client on the test's flushed Redis database."""
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path) -> str:
    """An empty database, migrated to head: SQLite always, PostgreSQL when configured."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'test.sqlite3'}"
    else:
        url = POSTGRES_URL
        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture
def config(database_url: str, redis_url: str) -> Config:
    """A testing configuration pointing at the test's database and Redis."""
    return Config(APP_ENV="testing", DATABASE_URL=database_url, REDIS_URL=redis_url)


@pytest.fixture
def make_app(config: Config):
    """Build apps from the test's config with some values changed; dispose of them after."""
    apps = []

    def build(**changes):
        app = create_app(config.replace(**changes))
        apps.append(app)
        return app

    yield build
    for app in apps:
        app.extensions["database"].engine.dispose()
        app.extensions["redis"].close()


@pytest.fixture
def app(make_app):
    """The app built by the factory for one test."""
    return make_app()


@pytest.fixture
def client(app):
    """A test client of the app."""
    return app.test_client()
