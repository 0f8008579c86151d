"""The Bitrix24 tokens of one frame session's user: encrypted in Redis, gone with the session."""

from __future__ import annotations

import json
from typing import cast

import redis

from bizproc_app.bitrix import PortalTokens
from bizproc_app.storage.secret_box import SecretBox


class SessionEnded(KeyError):
    """The frame session's tokens are gone: the user must reopen the tab."""


class FrameTokens:
    """A bitrix.TokenStore for one frame session (whatever member id the client passes)."""

    def __init__(self, redis_client: redis.Redis, box: SecretBox, session: str) -> None:
        self._redis = redis_client
        self._box = box
        self._key = f"frame:{session}:tokens"

    def keep(self, tokens: PortalTokens, seconds: int) -> None:
        """Store the pair for `seconds` (the frame session's life)."""
        self._redis.set(self._key, self._seal(tokens), ex=seconds)

    def exists(self) -> bool:
        """Whether the session still holds tokens (it ends when they expire)."""
        return bool(self._redis.exists(self._key))

    def load(self, member_id: str) -> PortalTokens:
        """The pair; SessionEnded (a KeyError, as the protocol says) once the session ended."""
        sealed = cast("bytes | None", self._redis.get(self._key))
        if sealed is None:
            raise SessionEnded("frame session ended")
        data = json.loads(self._box.decrypt(sealed.decode()))
        return PortalTokens(data["access"], data["refresh"], float(data["expires_at"]))

    def save(self, member_id: str, tokens: PortalTokens) -> None:
        """Replace the pair after a refresh, keeping the session's remaining life."""
        self._redis.set(self._key, self._seal(tokens), keepttl=True, xx=True)

    def _seal(self, tokens: PortalTokens) -> str:
        data = {
            "access": tokens.access_token,
            "refresh": tokens.refresh_token,
            "expires_at": tokens.expires_at,
        }
        return self._box.encrypt(json.dumps(data))
