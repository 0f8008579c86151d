"""Shared constants, a fake portal for requests-mock, and worker functions for processes."""

from __future__ import annotations

import json
import threading
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import redis
import requests
import requests_mock

from bizproc_app.bitrix import (
    BitrixClient,
    BitrixSettings,
    LeakyBucket,
    OAuthClient,
    OperatingLimits,
    PortalTokens,
    TokenRefresher,
)

OAUTH_URL = "https://oauth.example.test"
TOKEN_URL = f"{OAUTH_URL}/oauth/token/"
DOMAIN = "portal.example.test"
CLIENT_ENDPOINT = f"https://{DOMAIN}/rest/"
MEMBER_ID = "d897063e1ce7c5eb9f04b9751eef5915"
CLIENT_SECRET = "client-secret-XYZ123"
OLD_ACCESS = "access-old-0123456789abcdef"
OLD_REFRESH = "refresh-old-0123456789abcdef"


def token_json(n: int) -> dict[str, Any]:
    """Return the OAuth server's answer for the n-th refresh."""
    return {
        "access_token": f"access-new-{n}",
        "refresh_token": f"refresh-new-{n}",
        "client_endpoint": CLIENT_ENDPOINT,
        "domain": "oauth.example.test",
        "expires": 1780319382,
        "expires_in": 3600,
        "member_id": MEMBER_ID,
        "scope": "crm,bizproc",
        "server_endpoint": f"{OAUTH_URL}/rest/",
        "status": "L",
        "user_id": 1,
    }


def expired() -> dict[str, Any]:
    """Return the portal's expired_token body."""
    return {"error": "expired_token", "error_description": "The access token provided has expired."}


class FakePortal:
    """A thread-safe fake portal + OAuth server for requests-mock: one valid token at a time."""

    def __init__(self, mocker: requests_mock.Mocker, *, delay: float = 0.0) -> None:
        self.valid_access = "access-new-1"
        self.refreshes = 0
        self.calls = 0
        self.delay = delay
        self._lock = threading.Lock()
        mocker.get(TOKEN_URL, json=self._token)
        mocker.post(f"{CLIENT_ENDPOINT}user.current.json", json=self._method)

    def _token(self, request: Any, context: Any) -> dict[str, Any]:
        time.sleep(self.delay)
        with self._lock:
            self.refreshes += 1
            return token_json(self.refreshes)

    def _method(self, request: Any, context: Any) -> dict[str, Any]:
        with self._lock:
            self.calls += 1
            if request.json()["auth"] != self.valid_access:
                context.status_code = 401
                return expired()
        return {"result": {"ID": "1"}}


class RedisTokenStore:
    """A TokenStore in Redis so several processes share it (the app's is in its database)."""

    def __init__(self, client: redis.Redis) -> None:
        self._redis = client

    def load(self, member_id: str) -> PortalTokens:
        """Return the stored pair."""
        raw = self._redis.get(f"test:tokens:{member_id}")
        if raw is None:
            raise KeyError(member_id)
        return PortalTokens(**json.loads(raw))

    def save(self, member_id: str, tokens: PortalTokens) -> None:
        """Store the pair."""
        data = {
            "access_token": tokens.access_token,
            "refresh_token": tokens.refresh_token,
            "expires_at": tokens.expires_at,
        }
        self._redis.set(f"test:tokens:{member_id}", json.dumps(data))


def process_call_with_expired_token(redis_url: str, barrier: Any) -> None:
    """In a child process: call a method whose token expired; the fake counts refreshes in Redis."""
    client = redis.Redis.from_url(redis_url)
    settings = BitrixSettings(oauth_url=OAUTH_URL, client_id="local.app.1", client_secret="s")

    def token(request: Any, context: Any) -> dict[str, Any]:
        n = client.incr("test:refreshes")
        time.sleep(0.3)  # widen the window in which a second refresh could sneak in
        client.set("test:valid", f"access-new-{n}")
        return token_json(n)

    def method(request: Any, context: Any) -> dict[str, Any]:
        if request.json()["auth"].encode() != client.get("test:valid"):
            context.status_code = 401
            return expired()
        return {"result": {"ID": "1"}}

    with requests_mock.Mocker() as mocker, requests.Session() as session:
        mocker.get(TOKEN_URL, json=token)
        mocker.post(f"{CLIENT_ENDPOINT}user.current.json", json=method)
        store = RedisTokenStore(client)
        oauth = OAuthClient(settings, session=session)
        bitrix = BitrixClient(
            settings,
            member_id=MEMBER_ID,
            client_endpoint=CLIENT_ENDPOINT,
            token_store=store,
            refresher=TokenRefresher(oauth, store, client, lock_timeout=10),
            bucket=LeakyBucket(client),
            limits=OperatingLimits(client),
            session=session,
        )
        barrier.wait(timeout=30)
        result = bitrix.call("user.current").result
    client.rpush("test:results", json.dumps(result))
    client.close()


def process_reserve(redis_url: str, barrier: Any, count: int) -> None:
    """In a child process: reserve `count` slots and record each planned send time."""
    client = redis.Redis.from_url(redis_url)
    bucket = LeakyBucket(client)
    barrier.wait(timeout=30)
    for _ in range(count):
        before = time.time()
        wait = bucket.reserve(MEMBER_ID, rate=2.0, burst=50, margin=5)
        client.rpush("test:sends", before + wait)
    client.close()


def query_of(url: str) -> dict[str, list[str]]:
    """Return the parsed query string of a URL."""
    return parse_qs(urlsplit(url).query)
