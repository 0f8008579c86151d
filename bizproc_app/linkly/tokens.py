"""Caches of Linkly bearer tokens: in memory for tests, in Redis (encrypted) across processes."""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

log = logging.getLogger(__name__)

_RELEASE_LOCK = """
if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) end
return 0
"""


@dataclass(frozen=True)
class CachedToken:
    """A bearer token and its absolute expiry (seconds since the epoch)."""

    token: str = field(repr=False)
    expires_at: float


def token_cache_key(secret: str, pos_id: str) -> str:
    """Return the cache key of a PIN pad's token: a SHA-256, so the secret never shows in a key."""
    return hashlib.sha256(json.dumps([secret, pos_id]).encode()).hexdigest()


class TokenStore(Protocol):
    """Where tokens are cached, plus a per-key lock so only one caller renews at a time."""

    def get(self, key: str) -> CachedToken | None:
        """Return the cached token for key, or None."""
        ...

    def set(self, key: str, token: CachedToken, ttl_seconds: float) -> None:
        """Cache token under key for ttl_seconds."""
        ...

    def delete(self, key: str) -> None:
        """Forget the token cached under key."""
        ...

    def lock(self, key: str) -> AbstractContextManager[bool]:
        """Hold the renewal lock of key; yields False if it could not be had in time."""
        ...


class MemoryTokenStore:
    """A TokenStore in process memory, for tests and single-process tools."""

    def __init__(self, *, lock_wait_seconds: float = 15.0) -> None:
        self._tokens: dict[str, CachedToken] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self._lock_wait = lock_wait_seconds

    def get(self, key: str) -> CachedToken | None:
        """Return the cached token for key, or None."""
        return self._tokens.get(key)

    def set(self, key: str, token: CachedToken, ttl_seconds: float) -> None:
        """Cache token under key; expiry is checked by the client, not here."""
        self._tokens[key] = token

    def delete(self, key: str) -> None:
        """Forget the token cached under key."""
        self._tokens.pop(key, None)

    @contextmanager
    def lock(self, key: str) -> Iterator[bool]:
        """Hold key's renewal lock for up to lock_wait_seconds of waiting."""
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        acquired = lock.acquire(timeout=self._lock_wait)
        try:
            yield acquired
        finally:
            if acquired:
                lock.release()


class RedisTokenStore:
    """A TokenStore shared by all processes through Redis; tokens are stored encrypted.

    `encrypt`/`decrypt` map str to str (e.g. SecretBox.encrypt/decrypt). A value that cannot be
    decrypted (key rotated away, corrupted) counts as a cache miss. The renewal lock is
    `SET NX PX` with an owner nonce, released only by its owner; waiters poll until
    `lock_wait_seconds`, after which the caller renews without the lock rather than fail.
    """

    def __init__(
        self,
        redis: Any,
        *,
        encrypt: Callable[[str], str],
        decrypt: Callable[[str], str],
        prefix: str = "linkly:token:",
        lock_ttl_seconds: float = 45.0,
        lock_wait_seconds: float = 15.0,
        poll_seconds: float = 0.05,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._redis = redis
        self._encrypt = encrypt
        self._decrypt = decrypt
        self._prefix = prefix
        self._lock_ttl_ms = int(lock_ttl_seconds * 1000)
        self._lock_wait = lock_wait_seconds
        self._poll = poll_seconds
        self._sleep = sleep
        self._monotonic = monotonic
        self._release = redis.register_script(_RELEASE_LOCK)

    def _name(self, key: str) -> str:
        return f"{self._prefix}{key}"

    def get(self, key: str) -> CachedToken | None:
        """Return the decrypted cached token for key, or None on a miss or undecryptable value."""
        raw = self._redis.get(self._name(key))
        if raw is None:
            return None
        try:
            stored = raw.decode() if isinstance(raw, bytes) else str(raw)
            payload = json.loads(self._decrypt(stored))
            return CachedToken(token=str(payload["token"]), expires_at=float(payload["exp"]))
        except Exception:  # any decrypt/format failure: treat as a miss and fetch a new token
            log.warning("linkly token cache entry %s… unreadable; ignoring it", key[:8])
            return None

    def set(self, key: str, token: CachedToken, ttl_seconds: float) -> None:
        """Store the token encrypted with a Redis TTL (at least one second)."""
        value = self._encrypt(json.dumps({"token": token.token, "exp": token.expires_at}))
        self._redis.set(self._name(key), value, px=max(1000, int(ttl_seconds * 1000)))

    def delete(self, key: str) -> None:
        """Forget the token cached under key."""
        self._redis.delete(self._name(key))

    @contextmanager
    def lock(self, key: str) -> Iterator[bool]:
        """Hold the cross-process renewal lock of key; yields whether it was acquired."""
        name = f"{self._prefix}lock:{key}"
        owner = secrets.token_hex(16)
        deadline = self._monotonic() + self._lock_wait
        acquired = False
        while True:
            if self._redis.set(name, owner, nx=True, px=self._lock_ttl_ms):
                acquired = True
                break
            if self._monotonic() >= deadline:
                log.warning("linkly token lock %s… busy; renewing without it", key[:8])
                break
            self._sleep(self._poll)
        try:
            yield acquired
        finally:
            if acquired:
                self._release(keys=[name], args=[owner])
