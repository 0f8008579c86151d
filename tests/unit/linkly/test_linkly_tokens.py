"""Pairing, token caching and renewal, and the Redis token store."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
import redis
import requests
import requests_mock

from bizproc_app.linkly import (
    CachedToken,
    LinklyClient,
    LinklyUnavailable,
    MemoryTokenStore,
    PairingRejected,
    ProtocolError,
    RedisTokenStore,
    SecretRejected,
    TerminalCredentials,
    token_cache_key,
)
from tests.helpers.clocks import FakeClock
from tests.unit.linkly.helpers import (
    API,
    PAIR_CODE,
    PAIR_URL,
    PASSWORD,
    POS_ID,
    POS_VENDOR_ID,
    SECRET,
    TOKEN_URL,
    USERNAME,
    TokenServer,
)

STATUS_OK = {"sessionId": "x", "responseType": "status", "response": {"success": True}}


def test_pair_posts_credentials_and_returns_the_secret(
    client: LinklyClient, http: requests_mock.Mocker
) -> None:
    http.post(PAIR_URL, json={"secret": SECRET})
    assert client.pair(username=USERNAME, password=PASSWORD, pair_code=PAIR_CODE) == SECRET
    sent = http.request_history[-1]
    assert sent.json() == {"username": USERNAME, "password": PASSWORD, "pairCode": PAIR_CODE}
    assert sent.timeout == (4, 21)
    assert "Authorization" not in sent.headers


@pytest.mark.parametrize(
    ("response", "error"),
    [
        ({"status_code": 401, "text": ""}, PairingRejected),
        ({"status_code": 400, "json": {"message": "bad"}}, PairingRejected),
        ({"status_code": 500}, LinklyUnavailable),
        ({"status_code": 503}, LinklyUnavailable),
        ({"exc": requests.ConnectTimeout}, LinklyUnavailable),
        ({"exc": requests.ConnectionError}, LinklyUnavailable),
        ({"status_code": 200, "json": {}}, ProtocolError),
        ({"status_code": 200, "text": "<html>"}, ProtocolError),
    ],
)
def test_pair_failures(
    client: LinklyClient, http: requests_mock.Mocker, response: dict, error: type[Exception]
) -> None:
    http.post(PAIR_URL, **response)
    with pytest.raises(error):
        client.pair(username=USERNAME, password=PASSWORD, pair_code=PAIR_CODE)
    assert http.call_count == 1  # pairing is never retried


def test_pair_requires_all_fields(client: LinklyClient, http: requests_mock.Mocker) -> None:
    with pytest.raises(ValueError):
        client.pair(username=USERNAME, password="", pair_code=PAIR_CODE)
    assert http.call_count == 0


def test_token_request_body_and_caching(
    client: LinklyClient,
    credentials: TerminalCredentials,
    token_server: TokenServer,
    http: requests_mock.Mocker,
) -> None:
    assert client.token(credentials=credentials) == "tok-1"
    assert client.token(credentials=credentials) == "tok-1"
    assert token_server.calls == 1
    sent = http.request_history[0]
    assert sent.json() == {
        "secret": SECRET,
        "posName": "BizProc Linkly",
        "posVersion": "0.1.0",
        "posId": POS_ID,
        "posVendorId": POS_VENDOR_ID,
    }
    assert sent.timeout == (4, 21)


def test_token_is_cached_per_pin_pad(
    client: LinklyClient, credentials: TerminalCredentials, token_server: TokenServer
) -> None:
    other = TerminalCredentials(secret="another-secret", pos_id=POS_ID)
    assert client.token(credentials=credentials) == "tok-1"
    assert client.token(credentials=other) == "tok-2"
    assert client.token(credentials=credentials) == "tok-1"
    assert token_server.calls == 2


def test_token_renewed_when_under_five_minutes_remain(
    client: LinklyClient,
    credentials: TerminalCredentials,
    token_server: TokenServer,
    clock: FakeClock,
) -> None:
    assert client.token(credentials=credentials) == "tok-1"  # lifetime 1800 s
    clock.advance(1499)  # 301 s left
    assert client.token(credentials=credentials) == "tok-1"
    clock.advance(1)  # 300 s left: renew
    assert client.token(credentials=credentials) == "tok-2"
    assert token_server.calls == 2


def test_force_renew_fetches_a_new_token(
    client: LinklyClient, credentials: TerminalCredentials, token_server: TokenServer
) -> None:
    client.token(credentials=credentials)
    assert client.token(credentials=credentials, force_renew=True) == "tok-2"
    assert client.token(credentials=credentials) == "tok-2"


def test_missing_expiry_falls_back_to_a_short_lifetime(
    make_client: Callable[..., LinklyClient],
    credentials: TerminalCredentials,
    http: requests_mock.Mocker,
    clock: FakeClock,
) -> None:
    server = TokenServer(lifetime=None).register(http)
    client = make_client()
    client.token(credentials=credentials)
    clock.advance(299)
    client.token(credentials=credentials)
    assert server.calls == 1
    clock.advance(1)
    client.token(credentials=credentials)
    assert server.calls == 2


@pytest.mark.parametrize(
    ("response", "error"),
    [
        ({"status_code": 401}, SecretRejected),
        ({"status_code": 403}, SecretRejected),
        ({"status_code": 500}, LinklyUnavailable),
        ({"status_code": 408}, LinklyUnavailable),
        ({"exc": requests.ReadTimeout}, LinklyUnavailable),
        ({"status_code": 200, "json": {"expirySeconds": 60}}, ProtocolError),
    ],
)
def test_token_failures(
    make_client: Callable[..., LinklyClient],
    credentials: TerminalCredentials,
    http: requests_mock.Mocker,
    response: dict,
    error: type[Exception],
) -> None:
    http.post(TOKEN_URL, **response)
    with pytest.raises(error):
        make_client().token(credentials=credentials)


def test_401_from_rest_host_drops_the_token_and_retry_uses_a_new_one(
    client: LinklyClient,
    credentials: TerminalCredentials,
    token_server: TokenServer,
    http: requests_mock.Mocker,
) -> None:
    status = http.post(
        f"{API}/v1/sessions/{'0' * 32}/status",
        [{"status_code": 401}, {"status_code": 200, "json": STATUS_OK}],
    )
    result = client.status(credentials=credentials, session_id="0" * 32)
    assert result.success is True
    assert [r.headers["Authorization"] for r in status.request_history] == [
        "Bearer tok-1",
        "Bearer tok-2",
    ]
    assert client.token(credentials=credentials) == "tok-2"  # the new one is cached


def test_token_key_is_a_hash_without_the_secret() -> None:
    key = token_cache_key(SECRET, POS_ID)
    assert len(key) == 64
    assert SECRET not in key and POS_ID not in key
    assert key != token_cache_key(SECRET, "c1c2d3e4-f5a6-4b7c-8d9e-0f1a2b3c4d5e")


def test_cached_token_and_credentials_repr_hide_secrets(credentials: TerminalCredentials) -> None:
    assert "tok-secret" not in repr(CachedToken("tok-secret", 1.0))
    assert SECRET not in repr(credentials)


def test_memory_store_lock_times_out() -> None:
    store = MemoryTokenStore(lock_wait_seconds=0.05)
    with store.lock("k") as first:
        assert first

        def other() -> None:
            with store.lock("k") as second:
                results.append(second)

        results: list[bool] = []
        t = threading.Thread(target=other)
        t.start()
        t.join()
    assert results == [False]


# --- Redis -----------------------------------------------------------------------------


def test_redis_token_shared_across_clients(
    make_client: Callable[..., LinklyClient],
    make_redis_store: Callable[..., RedisTokenStore],
    credentials: TerminalCredentials,
    token_server: TokenServer,
    redis_server_url: str,
) -> None:
    # Two clients with their own sessions, stores and Redis connections, like two processes.
    other_conn = redis.Redis.from_url(f"{redis_server_url.rstrip('/')}/15")
    try:
        a = make_client(make_redis_store())
        b = make_client(make_redis_store(other_conn))
        assert a.token(credentials=credentials) == "tok-1"
        assert b.token(credentials=credentials) == "tok-1"
    finally:
        other_conn.close()
    assert token_server.calls == 1


def test_redis_value_is_encrypted_with_a_ttl(
    make_client: Callable[..., LinklyClient],
    make_redis_store: Callable[..., RedisTokenStore],
    linkly_redis: redis.Redis,
    credentials: TerminalCredentials,
    token_server: TokenServer,
) -> None:
    make_client(make_redis_store()).token(credentials=credentials)
    keys = [k.decode() for k in linkly_redis.keys("*")]
    assert keys == [f"linkly:token:{token_cache_key(SECRET, POS_ID)}"]
    raw = linkly_redis.get(keys[0])
    assert raw is not None
    assert b"tok-1" not in raw and SECRET.encode() not in raw
    assert 0 < linkly_redis.pttl(keys[0]) <= 1800 * 1000


def test_only_one_process_renews_at_a_time(
    make_client: Callable[..., LinklyClient],
    make_redis_store: Callable[..., RedisTokenStore],
    credentials: TerminalCredentials,
    http: requests_mock.Mocker,
    redis_server_url: str,
) -> None:
    server = TokenServer(delay=0.3).register(http)
    barrier = threading.Barrier(2)
    results: list[str] = []
    errors: list[BaseException] = []

    def worker() -> None:
        conn = redis.Redis.from_url(f"{redis_server_url.rstrip('/')}/15")
        try:
            client = make_client(make_redis_store(conn, poll_seconds=0.01))
            barrier.wait()
            results.append(client.token(credentials=credentials))
        except BaseException as exc:
            errors.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert not errors
    assert results == ["tok-1", "tok-1"]
    assert server.calls == 1


def test_only_one_renews_after_concurrent_401s(
    make_client: Callable[..., LinklyClient],
    make_redis_store: Callable[..., RedisTokenStore],
    credentials: TerminalCredentials,
    http: requests_mock.Mocker,
) -> None:
    server = TokenServer(delay=0.2).register(http)

    def status(request: Any, context: Any) -> dict[str, Any]:
        refused = request.headers["Authorization"] == "Bearer tok-1"
        context.status_code = 401 if refused else 200
        return STATUS_OK

    http.post(requests_mock.ANY, json=status)
    http.post(TOKEN_URL, json=server)
    clients = [make_client(make_redis_store(poll_seconds=0.01)) for _ in range(2)]
    clients[0].token(credentials=credentials)  # tok-1 cached, about to be refused
    barrier = threading.Barrier(2)
    results: list[bool] = []

    def worker(client: LinklyClient) -> None:
        barrier.wait()
        results.append(client.status(credentials=credentials).success)

    threads = [threading.Thread(target=worker, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert results == [True, True]
    assert server.calls == 2  # tok-1, then exactly one renewal shared by both


def test_lock_is_released_after_renewal(
    token_server: TokenServer,
    make_client: Callable[..., LinklyClient],
    make_redis_store: Callable[..., RedisTokenStore],
    linkly_redis: redis.Redis,
    credentials: TerminalCredentials,
) -> None:
    make_client(make_redis_store()).token(credentials=credentials)
    assert not linkly_redis.keys("linkly:token:lock:*")


def test_busy_lock_bounded_wait_then_renews_anyway(
    make_client: Callable[..., LinklyClient],
    make_redis_store: Callable[..., RedisTokenStore],
    linkly_redis: redis.Redis,
    credentials: TerminalCredentials,
    token_server: TokenServer,
) -> None:
    lock_key = f"linkly:token:lock:{token_cache_key(SECRET, POS_ID)}"
    linkly_redis.set(lock_key, "someone-else", px=60_000)
    store = make_redis_store(lock_wait_seconds=0.1, poll_seconds=0.02)
    assert make_client(store).token(credentials=credentials) == "tok-1"
    assert linkly_redis.get(lock_key) == b"someone-else"  # never released by a non-owner


def test_undecryptable_entry_is_a_miss(
    make_client: Callable[..., LinklyClient],
    make_redis_store: Callable[..., RedisTokenStore],
    linkly_redis: redis.Redis,
    credentials: TerminalCredentials,
    token_server: TokenServer,
) -> None:
    key = f"linkly:token:{token_cache_key(SECRET, POS_ID)}"
    linkly_redis.set(key, "not-a-fernet-token")
    assert make_client(make_redis_store()).token(credentials=credentials) == "tok-1"
    assert token_server.calls == 1


def test_redis_store_round_trip_and_delete(
    make_redis_store: Callable[..., RedisTokenStore], linkly_redis: redis.Redis
) -> None:
    store = make_redis_store(prefix="p:")
    store.set("k", CachedToken("tok-x", 123.5), ttl_seconds=0.2)
    assert store.get("k") == CachedToken("tok-x", 123.5)
    assert 0 < linkly_redis.pttl("p:k") <= 1000  # at least one second
    store.delete("k")
    assert store.get("k") is None
