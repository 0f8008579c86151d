"""Per-portal token storage and the one-at-a-time (across processes) token refresher."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Protocol

import redis

from .errors import BitrixUnavailable
from .oauth import OAuthClient

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PortalTokens:
    """The current OAuth pair of one portal."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_at: float


class TokenStore(Protocol):
    """Where portal tokens live (the app keeps them encrypted in its database)."""

    def load(self, member_id: str) -> PortalTokens:
        """Return the portal's tokens; raise KeyError when the portal has none."""
        ...

    def save(self, member_id: str, tokens: PortalTokens) -> None:
        """Replace the portal's tokens (durably: the old refresh token is dead)."""
        ...


class MemoryTokenStore:
    """A thread-safe in-memory TokenStore for tests and scripts."""

    def __init__(self, tokens: dict[str, PortalTokens] | None = None) -> None:
        self._tokens = dict(tokens or {})
        self._lock = threading.Lock()
        self.saves = 0

    def load(self, member_id: str) -> PortalTokens:
        """Return the portal's tokens; KeyError if unknown."""
        with self._lock:
            return self._tokens[member_id]

    def save(self, member_id: str, tokens: PortalTokens) -> None:
        """Replace the portal's tokens."""
        with self._lock:
            self._tokens[member_id] = tokens
            self.saves += 1


class TokenRefresher:
    """Refresh a portal's tokens with one refresher at a time across all processes.

    Refresh tokens rotate, so two concurrent refreshes would kill each other: the loser's
    refresh token is already used. A Redis lock per portal serialises them; whoever gets the
    lock re-reads the store and reuses tokens another process refreshed meanwhile.
    """

    def __init__(
        self,
        oauth: OAuthClient,
        store: TokenStore,
        redis_client: redis.Redis,
        *,
        lock_timeout: float = 60.0,
        wait_timeout: float | None = None,
        prefix: str = "bitrix:refresh:",
    ) -> None:
        # The lock must outlive one OAuth call (connect 5 s + read 30 s by default) or a
        # second process could refresh with the already-rotated token; hence 60 s, not 30.
        self._oauth = oauth
        self._store = store
        self._redis = redis_client
        self._lock_timeout = lock_timeout
        self._wait_timeout = lock_timeout + 5 if wait_timeout is None else wait_timeout
        self._prefix = prefix

    def refresh(self, member_id: str, *, stale_access_token: str) -> PortalTokens:
        """Return tokens newer than stale_access_token, refreshing them only if nobody has."""
        lock = self._redis.lock(
            f"{self._prefix}{member_id}",
            timeout=self._lock_timeout,
            blocking_timeout=self._wait_timeout,
        )
        if not lock.acquire():
            current = self._store.load(member_id)
            if current.access_token != stale_access_token:
                return current
            raise BitrixUnavailable(
                "REFRESH_LOCK_TIMEOUT", "another process holds the token refresh lock"
            )
        try:
            current = self._store.load(member_id)
            if current.access_token != stale_access_token:
                log.debug("bitrix tokens for %s already refreshed elsewhere", member_id)
                return current
            grant = self._oauth.refresh(refresh_token=current.refresh_token)
            tokens = PortalTokens(grant.access_token, grant.refresh_token, grant.expires_at)
            self._store.save(member_id, tokens)
            return tokens
        finally:
            try:
                lock.release()
            except redis.exceptions.LockError:
                log.warning("bitrix refresh lock for %s expired before release", member_id)
