"""Fixtures: a Linkly Cloud simulator, its control API, a notification receiver and a POS whose
real LinklyClient caches its tokens encrypted in a real Redis."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
import redis
from cryptography.fernet import Fernet

from bizproc_app.linkly import LinklyClient, LinklySettings, RedisTokenStore, TerminalCredentials
from bizproc_app.storage.secret_box import SecretBox
from simulators.linkly import LinklySimulator, SimulatorConfig
from tests.helpers.pos import LinklyClientPos, RecordingSession
from tests.helpers.receivers import JsonEventReceiver
from tests.integration.linkly_roundtrip.helpers import (
    PAIR_CODE,
    PASSWORD,
    POS_VENDOR_ID,
    USERNAME,
    PadOneControl,
)


@pytest.fixture
def sim() -> Iterator[LinklySimulator]:
    """A fresh simulator on a free loopback port: PIN pad 1, tiny delays, http webhooks."""
    config = SimulatorConfig(
        username=USERNAME,
        password=PASSWORD,
        cardholder_delay=0.05,
        allow_http=True,
        input_timeout=15.0,
        processing_delay=0.05,
        operation_delay=0.02,
        notify_timeout=2.0,
    )
    simulator = LinklySimulator(config, pair_code=PAIR_CODE)
    simulator.start(host="127.0.0.1", port=0)
    yield simulator
    simulator.stop()


@pytest.fixture
def control(sim: LinklySimulator) -> Iterator[PadOneControl]:
    """The simulator's control client, PIN pad 1 by default."""
    with PadOneControl(sim.base_url, timeout=5) as client:
        yield client


@pytest.fixture(scope="module")
def receiver() -> Iterator[JsonEventReceiver]:
    """One notification endpoint for the module; events are told apart by session id."""
    rec = JsonEventReceiver()
    yield rec
    rec.close()


@pytest.fixture
def box() -> SecretBox:
    return SecretBox([Fernet.generate_key().decode()])


@pytest.fixture
def settings(sim: LinklySimulator) -> LinklySettings:
    return LinklySettings(
        auth_url=sim.base_url,
        api_url=sim.base_url,
        pos_vendor_id=POS_VENDOR_ID,
        pos_name="bizproc-tests",
        pos_version="1.0.0",
        read_timeout=10,
        transaction_read_timeout=10,
        require_https_notification=False,
    )


@pytest.fixture
def make_client(
    settings: LinklySettings, redis_url: str, box: SecretBox
) -> Iterator[Callable[[], tuple[LinklyClient, RecordingSession, RedisTokenStore]]]:
    """Build independent clients (own HTTP session, own Redis connection) on the same Redis."""
    opened: list[tuple[RecordingSession, redis.Redis]] = []

    def build() -> tuple[LinklyClient, RecordingSession, RedisTokenStore]:
        http = RecordingSession()
        conn = redis.Redis.from_url(redis_url)
        opened.append((http, conn))
        store = RedisTokenStore(conn, encrypt=box.encrypt, decrypt=box.decrypt)
        return LinklyClient(settings, session=http, token_store=store), http, store

    yield build
    for http, conn in opened:
        http.close()
        conn.close()


@pytest.fixture
def pos(make_client, receiver: JsonEventReceiver) -> LinklyClientPos:
    """A POS whose client paired PIN pad 1 (no token fetched yet)."""
    client, http, store = make_client()
    secret = client.pair(username=USERNAME, password=PASSWORD, pair_code=PAIR_CODE)
    assert secret
    creds = TerminalCredentials(secret=secret, pos_id=str(uuid.uuid4()))
    return LinklyClientPos(client, http, store, creds, receiver)
