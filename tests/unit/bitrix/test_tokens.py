"""Token refresh: one refresher at a time across threads and processes; rotation persisted."""

from __future__ import annotations

import json
import multiprocessing
import threading

import pytest
import redis
import requests

from bizproc_app.bitrix import (
    BitrixUnavailable,
    InvalidGrant,
    MemoryTokenStore,
    PortalTokens,
    TokenRefresher,
)
from tests.unit.bitrix.helpers import (
    MEMBER_ID,
    OLD_ACCESS,
    OLD_REFRESH,
    TOKEN_URL,
    FakePortal,
    RedisTokenStore,
    process_call_with_expired_token,
    query_of,
    token_json,
)


def test_refresh_rotates_and_persists(refresher, store, requests_mock) -> None:
    requests_mock.get(TOKEN_URL, json=token_json(1))
    tokens = refresher.refresh(MEMBER_ID, stale_access_token=OLD_ACCESS)
    assert (tokens.access_token, tokens.refresh_token) == ("access-new-1", "refresh-new-1")
    assert store.load(MEMBER_ID) == tokens
    assert query_of(requests_mock.request_history[0].url)["refresh_token"] == [OLD_REFRESH]
    assert "access-new-1" not in repr(tokens)


def test_already_refreshed_elsewhere_skips_oauth(refresher, store, requests_mock) -> None:
    newer = PortalTokens("access-newer", "refresh-newer", 5.0)
    store.save(MEMBER_ID, newer)
    token = requests_mock.get(TOKEN_URL, json=token_json(1))
    assert refresher.refresh(MEMBER_ID, stale_access_token=OLD_ACCESS) == newer
    assert token.call_count == 0


def test_invalid_grant_surfaces_and_releases_the_lock(
    refresher, store, requests_mock, redis_client
) -> None:
    requests_mock.get(TOKEN_URL, status_code=400, json={"error": "invalid_grant"})
    with pytest.raises(InvalidGrant):
        refresher.refresh(MEMBER_ID, stale_access_token=OLD_ACCESS)
    assert store.load(MEMBER_ID).refresh_token == OLD_REFRESH
    assert redis_client.keys("bitrix:refresh:*") == []


def test_lock_wait_is_bounded(oauth, store, redis_client, requests_mock) -> None:
    token = requests_mock.get(TOKEN_URL, json=token_json(1))
    refresher = TokenRefresher(oauth, store, redis_client, lock_timeout=10, wait_timeout=0.2)
    held = redis_client.lock(f"bitrix:refresh:{MEMBER_ID}", timeout=10)
    assert held.acquire()
    try:
        with pytest.raises(BitrixUnavailable, match="REFRESH_LOCK_TIMEOUT"):
            refresher.refresh(MEMBER_ID, stale_access_token=OLD_ACCESS)
        store.save(MEMBER_ID, PortalTokens("a2", "r2", 1.0))  # the holder finished meanwhile
        assert refresher.refresh(MEMBER_ID, stale_access_token=OLD_ACCESS).access_token == "a2"
    finally:
        held.release()
    assert token.call_count == 0


def test_concurrent_expiry_in_threads_refreshes_once(make_client, store, requests_mock) -> None:
    portal = FakePortal(requests_mock, delay=0.2)
    barrier = threading.Barrier(8)
    results: list[object] = []
    errors: list[BaseException] = []

    def run() -> None:
        with requests.Session() as session:
            client = make_client(session=session)
            barrier.wait(timeout=10)
            try:
                results.append(client.call("user.current").result)
            except BaseException as exc:  # collected and asserted below
                errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == []
    assert results == [{"ID": "1"}] * 8
    assert portal.refreshes == 1
    assert portal.calls == 16  # each thread: one expired call and one retry
    assert store.load(MEMBER_ID).refresh_token == "refresh-new-1"
    assert store.saves == 1


def test_concurrent_expiry_in_processes_refreshes_once(
    redis_url: str, redis_client: redis.Redis
) -> None:
    RedisTokenStore(redis_client).save(MEMBER_ID, PortalTokens(OLD_ACCESS, OLD_REFRESH, 0.0))
    redis_client.set("test:valid", "nobody-has-this-yet")
    ctx = multiprocessing.get_context("spawn")
    workers = 4
    barrier = ctx.Barrier(workers)
    procs = [
        ctx.Process(target=process_call_with_expired_token, args=(redis_url, barrier))
        for _ in range(workers)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=60)
    assert [p.exitcode for p in procs] == [0] * workers
    assert int(redis_client.get("test:refreshes")) == 1
    results = [json.loads(r) for r in redis_client.lrange("test:results", 0, -1)]
    assert results == [{"ID": "1"}] * workers
    stored = RedisTokenStore(redis_client).load(MEMBER_ID)
    assert (stored.access_token, stored.refresh_token) == ("access-new-1", "refresh-new-1")


def test_memory_store_unknown_portal() -> None:
    with pytest.raises(KeyError):
        MemoryTokenStore().load("nope")
