"""Settings, the OAuth server client (token refresh, app.info) and client_endpoint checks."""

from __future__ import annotations

import ipaddress
import logging
import re
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests

from .errors import (
    BitrixError,
    BitrixUnavailable,
    InvalidClient,
    InvalidGrant,
    OAuthError,
    error_from_response,
    normalise_code,
)
from .redact import MASK, install_urllib3_filter

log = logging.getLogger(__name__)
_DOMAIN = re.compile(r"[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?")


@dataclass(frozen=True)
class BitrixSettings:
    """Configuration shared by every portal: OAuth host, app keys, timeouts, limits, retries."""

    oauth_url: str
    client_id: str
    client_secret: str = field(repr=False)
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    allow_http: bool = False
    rate: float = 2.0
    burst: int = 50
    burst_margin: int = 5
    max_retries: int = 4
    backoff_base: float = 1.0
    backoff_cap: float = 30.0

    def __post_init__(self) -> None:
        parts = urlsplit(self.oauth_url)
        schemes = {"https", "http"} if self.allow_http else {"https"}
        # A path prefix is allowed (a local stand-in may serve OAuth under one); nothing else.
        if parts.scheme not in schemes or not parts.hostname:
            raise ValueError(f"oauth_url must be an {'/'.join(sorted(schemes))} URL")
        if parts.query or parts.fragment or parts.username:
            raise ValueError("oauth_url must have no query, fragment or credentials")
        if self.rate <= 0 or self.burst < 1 or self.max_retries < 0:
            raise ValueError("need rate > 0, burst >= 1 and max_retries >= 0")
        if min(self.connect_timeout, self.read_timeout) <= 0:
            raise ValueError("timeouts must be positive")
        object.__setattr__(self, "oauth_url", self.oauth_url.rstrip("/"))

    @property
    def timeout(self) -> tuple[float, float]:
        """Return the (connect, read) timeout used for every request."""
        return (self.connect_timeout, self.read_timeout)


@dataclass(frozen=True)
class TokenResponse:
    """A successful token grant from the OAuth server."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_at: float
    member_id: str
    client_endpoint: str
    scope: str
    user_id: int | None

    @classmethod
    def from_json(cls, body: Mapping[str, Any], now: float) -> TokenResponse:
        """Build from the token JSON; expiry from expires_in on our clock, else `expires`."""
        if "expires_in" in body:
            expires_at = now + float(body["expires_in"])
        else:
            expires_at = float(body.get("expires") or now + 3600)
        user_id = body.get("user_id")
        return cls(
            access_token=str(body["access_token"]),
            refresh_token=str(body["refresh_token"]),
            expires_at=expires_at,
            member_id=str(body.get("member_id") or ""),
            client_endpoint=str(body.get("client_endpoint") or ""),
            scope=str(body.get("scope") or ""),
            user_id=int(user_id) if user_id is not None and user_id != "" else None,
        )


@dataclass(frozen=True)
class AppInfo:
    """What the OAuth server's app.info says about the token's app and portal."""

    client_id: str
    member_id: str
    domain: str
    client_endpoint: str
    installed: bool
    status: str
    scope: str
    user_id: int | None
    version: str

    @classmethod
    def from_json(cls, result: Mapping[str, Any]) -> AppInfo:
        """Build from the `result` object of the OAuth server's app.info."""
        install = result.get("install") or {}
        if not isinstance(install, Mapping):
            install = {}
        user_id = result.get("user_id")
        return cls(
            client_id=str(result.get("client_id") or ""),
            member_id=str(install.get("member_id") or ""),
            domain=str(install.get("domain") or ""),
            client_endpoint=str(install.get("client_endpoint") or ""),
            installed=install.get("installed") in (True, 1, "1", "Y", "y", "true"),
            status=str(install.get("status") or ""),
            scope=str(install.get("scope") or result.get("scope") or ""),
            user_id=int(user_id) if user_id is not None and user_id != "" else None,
            version=str(install.get("version") or ""),
        )


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def validate_client_endpoint(endpoint: str, domain: str, allow_http: bool = False) -> str:
    """Return `https://{domain}/rest/` if endpoint is exactly that (http too if allowed).

    Outside development (`allow_http` off) the domain must be a DNS host name: no IP literal,
    no port, at least two labels.
    """
    domain = domain.strip().lower()
    if not _DOMAIN.fullmatch(domain):
        raise ValueError("not a portal domain")
    if not allow_http and (":" in domain or "." not in domain or _is_ip_literal(domain)):
        raise ValueError("a portal domain is a host name, without a port or an IP address")
    parts = urlsplit(endpoint)
    schemes = {"https", "http"} if allow_http else {"https"}
    if (
        parts.scheme not in schemes
        or parts.netloc.lower() != domain
        or parts.path != "/rest/"
        or parts.query
        or parts.fragment
        or "?" in endpoint
        or "#" in endpoint
    ):
        raise ValueError(f"client_endpoint must be {'/'.join(sorted(schemes))}://{domain}/rest/")
    return f"{parts.scheme}://{domain}/rest/"


def resolves_publicly(host: str, resolve: Callable[..., Any] = socket.getaddrinfo) -> bool:
    """True if every address the host name resolves to is a public one (not private,
    loopback, link-local or reserved): our server must never be pointed at internal hosts."""
    try:
        infos = resolve(host, 443, proto=socket.IPPROTO_TCP)
    except OSError:
        return False
    addresses = {ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos}
    return bool(addresses) and all(a.is_global for a in addresses)


class OAuthClient:
    """Talks to the OAuth server, the only place the client_secret is ever sent."""

    def __init__(
        self,
        settings: BitrixSettings,
        *,
        session: requests.Session,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._settings = settings
        self._session = session
        self._clock = clock
        install_urllib3_filter()

    def refresh(self, *, refresh_token: str) -> TokenResponse:
        """Exchange a refresh token for a new pair (the old refresh token dies)."""
        s = self._settings
        params = {
            "grant_type": "refresh_token",
            "client_id": s.client_id,
            "client_secret": s.client_secret,
            "refresh_token": refresh_token,
        }
        status, body = self._get(f"{s.oauth_url}/oauth/token/", params, what="oauth.token")
        if isinstance(body, Mapping) and "error" in body:
            raise self._oauth_error(status, body, secrets=(refresh_token, s.client_secret))
        if status >= 500 or body is None:
            raise BitrixUnavailable("INVALID_RESPONSE", "unreadable answer", status, "oauth.token")
        if status >= 400 or not isinstance(body, Mapping) or "access_token" not in body:
            raise OAuthError("invalid_response", "no tokens in the answer", status, "oauth.token")
        log.info("bitrix oauth: refreshed tokens for member %s", body.get("member_id"))
        return TokenResponse.from_json(body, self._clock())

    def app_info(self, *, access_token: str) -> AppInfo:
        """Ask the OAuth server which app and portal an access token belongs to."""
        url = f"{self._settings.oauth_url}/rest/app.info"
        status, body = self._get(url, {"auth": access_token}, what="app.info")
        error = error_from_response(status, body, method="app.info")
        if error is not None:
            raise error
        if not isinstance(body, Mapping) or not isinstance(body.get("result"), Mapping):
            raise BitrixUnavailable("INVALID_RESPONSE", "no result", status, "app.info")
        return AppInfo.from_json(body["result"])

    def _get(self, url: str, params: Mapping[str, str], *, what: str) -> tuple[int, Any]:
        """GET with timeouts and no redirects; transport failures become BitrixUnavailable."""
        try:
            resp = self._session.get(
                url, params=params, timeout=self._settings.timeout, allow_redirects=False
            )
        except requests.Timeout:
            # `from None`: requests' messages quote the URL, which holds the secrets.
            raise BitrixUnavailable(
                "TIMEOUT", "no answer from the OAuth server", None, what
            ) from None
        except requests.RequestException as exc:
            raise BitrixUnavailable("CONNECTION_ERROR", type(exc).__name__, None, what) from None
        try:
            body = resp.json()
        except ValueError:
            body = None
        return resp.status_code, body

    @staticmethod
    def _oauth_error(
        status: int, body: Mapping[str, Any], *, secrets: tuple[str, ...]
    ) -> BitrixError:
        """Map an OAuth server error body to a typed error, masking any echoed secret."""
        code = normalise_code(body["error"])
        description = str(body.get("error_description") or "")
        for secret in secrets:
            if secret:
                description = description.replace(secret, MASK)
        cls = {"invalid_grant": InvalidGrant, "invalid_client": InvalidClient}.get(
            code.lower(), OAuthError
        )
        if cls is OAuthError and status >= 500:
            return BitrixUnavailable(code, description, status, "oauth.token")
        return cls(code, description, status, "oauth.token")
