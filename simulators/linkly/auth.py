"""Secrets (from pairing) and bearer tokens, each bound to one PIN pad."""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
import uuid
from dataclasses import dataclass


def _b64(data: bytes) -> str:
    """Base64url without padding, as in a JWT."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt_like(claims: dict[str, object]) -> str:
    """Return an opaque string shaped like a signed JWT (not verifiable, not meant to be)."""
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
    return f"{header}.{payload}.{_b64(secrets.token_bytes(32))}"


@dataclass
class TokenInfo:
    """A token's PIN pad, POS identity and expiry (monotonic and wall clock)."""

    pinpad: str
    pos_id: str
    expires_mono: float
    expires_at: float


class AuthStore:
    """Issue and check pairing secrets and bearer tokens."""

    def __init__(self) -> None:
        """Start with no secrets and no tokens."""
        self._lock = threading.Lock()
        self._secrets: dict[str, str] = {}
        self._tokens: dict[str, TokenInfo] = {}

    def issue_secret(self, pinpad: str) -> str:
        """Create a non-expiring secret for a PIN pad."""
        secret = jwt_like(
            {
                "sub": f"pinpad-{pinpad}",
                "jti": str(uuid.uuid4()),
                "iat": int(time.time()),
                "typ": "cloudpos-secret",
            }
        )
        with self._lock:
            self._secrets[secret] = pinpad
        return secret

    def pinpad_of_secret(self, secret: str) -> str | None:
        """Return the PIN pad a secret belongs to, or None."""
        with self._lock:
            return self._secrets.get(secret)

    def issue_token(self, pinpad: str, pos_id: str, lifetime: int) -> str:
        """Create a bearer token valid for lifetime seconds."""
        now = time.time()
        token = jwt_like(
            {
                "sub": f"pinpad-{pinpad}",
                "posId": pos_id,
                "jti": str(uuid.uuid4()),
                "iat": int(now),
                "exp": int(now + lifetime),
            }
        )
        info = TokenInfo(pinpad, pos_id, time.monotonic() + lifetime, now + lifetime)
        with self._lock:
            self._tokens[token] = info
        return token

    def check_token(self, token: str) -> TokenInfo | None:
        """Return the token's info if it is known and unexpired."""
        with self._lock:
            info = self._tokens.get(token)
            if info is None:
                return None
            if info.expires_mono <= time.monotonic():
                del self._tokens[token]
                return None
            return info

    def revoke_pinpad_tokens(self, pinpad: str) -> int:
        """Invalidate every token of a PIN pad; return how many."""
        with self._lock:
            doomed = [t for t, i in self._tokens.items() if i.pinpad == pinpad]
            for t in doomed:
                del self._tokens[t]
        return len(doomed)

    def counts(self) -> dict[str, int]:
        """Return how many secrets and live tokens exist."""
        with self._lock:
            now = time.monotonic()
            live = sum(1 for i in self._tokens.values() if i.expires_mono > now)
            return {"secrets": len(self._secrets), "tokens": live}
