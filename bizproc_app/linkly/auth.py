"""Pairing and bearer tokens: cached per PIN pad, renewed by one caller at a time."""

from __future__ import annotations

import logging
from collections.abc import Callable

import requests

from bizproc_app.linkly._http import json_object, send
from bizproc_app.linkly._parse import opt_int, text
from bizproc_app.linkly.config import LinklySettings, TerminalCredentials
from bizproc_app.linkly.errors import CallKind, ProtocolError, error_for
from bizproc_app.linkly.tokens import CachedToken, TokenStore, token_cache_key

log = logging.getLogger(__name__)

# When Linkly omits expirySeconds, cache the token only briefly; a 401 would renew it anyway.
_FALLBACK_LIFETIME_SECONDS = 600


class TokenManager:
    """Obtain pairing secrets and bearer tokens from the Linkly auth host."""

    def __init__(
        self,
        settings: LinklySettings,
        session: requests.Session,
        store: TokenStore,
        clock: Callable[[], float],
    ) -> None:
        self._settings = settings
        self._session = session
        self._store = store
        self._clock = clock
        self._timeout = (settings.connect_timeout, settings.read_timeout)

    def pair(self, *, username: str, password: str, pair_code: str) -> str:
        """Exchange Cloud username, password and the PIN pad's pair code for the secret."""
        if not (username and password and pair_code):
            raise ValueError("username, password and pair_code are required")
        response = send(
            self._session,
            CallKind.PAIRING,
            "POST",
            f"{self._settings.auth_url}/v1/pairing/cloudpos",
            timeout=self._timeout,
            json_body={"username": username, "password": password, "pairCode": pair_code},
        )
        if response.status_code != 200:
            raise error_for(CallKind.PAIRING, status=response.status_code)
        secret = text(json_object(response).get("secret"))
        if not secret:
            raise ProtocolError("Linkly pairing reply has no secret", status=200)
        return secret

    def _fresh(self, cached: CachedToken | None) -> bool:
        if cached is None:
            return False
        return cached.expires_at - self._clock() > self._settings.renew_margin_seconds

    def token(self, *, credentials: TerminalCredentials, force_renew: bool = False) -> str:
        """Return a bearer token, renewing it when under the margin or when forced.

        Renewal holds the store's per-PIN-pad lock; a caller that waited for it uses the token
        another caller renewed meanwhile instead of fetching a second one.
        """
        key = token_cache_key(credentials.secret, credentials.pos_id)
        cached = self._store.get(key)
        if not force_renew and self._fresh(cached):
            assert cached is not None
            return cached.token
        stale = cached.token if cached is not None else None
        with self._store.lock(key):
            current = self._store.get(key)
            if current is not None and current.token != stale and self._fresh(current):
                return current.token
            return self._fetch(key, credentials)

    def invalidate(self, *, credentials: TerminalCredentials, token: str) -> None:
        """Drop the cached token after a 401, unless another caller already replaced it."""
        key = token_cache_key(credentials.secret, credentials.pos_id)
        cached = self._store.get(key)
        if cached is not None and cached.token == token:
            self._store.delete(key)

    def _fetch(self, key: str, credentials: TerminalCredentials) -> str:
        s = self._settings
        response = send(
            self._session,
            CallKind.TOKEN,
            "POST",
            f"{s.auth_url}/v1/tokens/cloudpos",
            timeout=self._timeout,
            json_body={
                "secret": credentials.secret,
                "posName": s.pos_name,
                "posVersion": s.pos_version,
                "posId": credentials.pos_id,
                "posVendorId": s.pos_vendor_id,
            },
        )
        if response.status_code != 200:
            raise error_for(CallKind.TOKEN, status=response.status_code)
        body = json_object(response)
        token = text(body.get("token"))
        if not token:
            raise ProtocolError("Linkly token reply has no token", status=200)
        lifetime = opt_int(body.get("expiryseconds"))
        if lifetime is None or lifetime <= 0:
            lifetime = _FALLBACK_LIFETIME_SECONDS
        self._store.set(key, CachedToken(token, self._clock() + lifetime), ttl_seconds=lifetime)
        log.info("linkly token renewed for pos %s (lifetime %ss)", credentials.pos_id, lifetime)
        return token
