"""One HTTP exchange with Linkly: explicit timeouts, safe logging, scrubbed error bodies."""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

import requests

from bizproc_app.linkly._parse import lower_keys
from bizproc_app.linkly.errors import CallKind, error_for

log = logging.getLogger(__name__)

_SENSITIVE_KEYS = frozenset(
    {"secret", "password", "paircode", "token", "authorization", "authorizationheader"}
)
_MAX_BODY = 1000


def _redact(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: ("***" if str(k).lower() in _SENSITIVE_KEYS else _redact(v))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_redact(v) for v in value]
    return value


def scrub(body: str, sensitive: Iterable[str | None] = ()) -> str:
    """Return body with secret-looking JSON fields and every known secret value masked."""
    with contextlib.suppress(ValueError):
        body = json.dumps(_redact(json.loads(body)))
    for value in sensitive:
        if value:
            body = body.replace(value, "***")
    return body[:_MAX_BODY]


def read_json(response: requests.Response) -> Any:
    """Return the decoded JSON body, or None when it is empty or not JSON."""
    try:
        return response.json()
    except ValueError:
        return None


def json_object(response: requests.Response) -> dict[str, Any]:
    """Return the JSON object body with lower-cased keys, or {} when it is not an object."""
    body = read_json(response)
    return lower_keys(body) if isinstance(body, dict) else {}


def send(
    session: requests.Session,
    kind: CallKind,
    method: str,
    url: str,
    *,
    timeout: tuple[float, float],
    token: str | None = None,
    json_body: Any = None,
    params: dict[str, str] | None = None,
    session_id: str | None = None,
) -> requests.Response:
    """Make one request; network failures become the kind's error (never retried here)."""
    headers = {"Accept": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    path = urlsplit(url).path
    started = time.monotonic()
    try:
        # No redirects: a 307/308 would silently re-send a transaction POST elsewhere.
        response = session.request(
            method,
            url,
            json=json_body,
            params=params,
            headers=headers,
            timeout=timeout,
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        log.warning("linkly %s %s failed: %s", method, path, type(exc).__name__)
        raise error_for(kind, cause=exc, session_id=session_id) from exc
    elapsed_ms = (time.monotonic() - started) * 1000
    log.info("linkly %s %s -> %s (%.0f ms)", method, path, response.status_code, elapsed_ms)
    return response
