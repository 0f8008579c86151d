"""The REST client under Bitrix24's real limits: a shared leaky bucket and one token refresh."""

from __future__ import annotations

import multiprocessing
import threading
from typing import Any

import pytest
import redis
import requests
from sqlalchemy import func, select

from bizproc_app import create_app
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
from bizproc_app.config import Config
from bizproc_app.extensions import db
from bizproc_app.models import JournalEntry, Portal
from bizproc_app.wiring.services import bitrix_client_for
from tests.bitrix_fixtures import CLIENT_ID, CLIENT_SECRET


@pytest.mark.timeout(300)
def test_a_burst_of_120_calls_at_the_default_limits_never_sees_a_503(b24, ctl, redis_url) -> None:
    state = ctl("GET", "state")
    issued = ctl("POST", "token", {"user_id": 1})
    member = state["member_id"]
    store = MemoryTokenStore(
        {member: PortalTokens(issued["access_token"], issued["refresh_token"], 0)}
    )
    settings = BitrixSettings(
        oauth_url=b24.urls["oauth"],
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        allow_http=True,
    )
    conn = redis.Redis.from_url(redis_url)
    http = requests.Session()
    oauth = OAuthClient(settings, session=http)
    errors: list[BaseException] = []

    def calls(n: int) -> None:
        client = BitrixClient(
            settings,
            member_id=member,
            client_endpoint=state["client_endpoint"],
            token_store=store,
            refresher=TokenRefresher(oauth, store, conn),
            bucket=LeakyBucket(conn),
            limits=OperatingLimits(conn),
            session=requests.Session(),
        )
        try:
            for _ in range(n):
                client.call("user.current")
        except BaseException as exc:
            errors.append(exc)

    # 120 calls: 2.4 times the simulator's bucket of 50, so most wait for the leak (2 per second).
    threads = [threading.Thread(target=calls, args=(30,)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    conn.close()
    assert errors == []
    counts = ctl("GET", "requests")["requests"]
    assert counts["user.current"] == 120
    # The simulator refuses with 503 QUERY_LIMIT_EXCEEDED; none was sent, none retried.
    assert sum(counts.values()) == 120


def _call_as_a_separate_process(config: Config, member_id: str) -> str:
    app = create_app(config)
    with app.app_context():
        portal = db.session.scalar(select(Portal).where(Portal.member_id == member_id))
        result = bitrix_client_for(portal).call("user.current").result
    return str(result["ID"])


def test_concurrent_token_expiry_in_several_processes_makes_one_refresh(served_app, ctl) -> None:
    assert ctl("POST", "install", {"mode": "event"})["status"] == 200
    member = ctl("GET", "state")["member_id"]
    ctl("POST", "tokens/expire", {})
    ctl("DELETE", "requests")
    config = served_app.config["APP_CONFIG"]
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        users = pool.starmap(_call_as_a_separate_process, [(config, member)] * 4)
    assert users == ["1"] * 4
    with served_app.app_context():
        refreshes = db.session.scalar(
            select(func.count()).where(JournalEntry.kind == "bitrix.token_refreshed")
        )
    assert refreshes == 1
    counts: dict[str, Any] = ctl("GET", "requests")["requests"]
    assert counts["oauth/token"] == 1
    # Each process retried at most once (an expired call, then one with the new token).
    assert 4 <= counts["user.current"] <= 8
