"""The Bitrix24 REST client for one portal: throttled calls, token refresh, batch, paging."""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import requests

from .backoff import equal_jitter
from .batch import (
    BatchResult,
    Command,
    check_method,
    encode_chunks,
    parse_batch,
    references,
)
from .errors import (
    BadRequest,
    BitrixError,
    BitrixUnavailable,
    ExpiredToken,
    OperationTimeLimit,
    OverloadLimit,
    QueryLimitExceeded,
    error_from_response,
)
from .oauth import BitrixSettings, validate_client_endpoint
from .operating import OperatingLimits
from .ratelimit import LeakyBucket
from .redact import mask
from .tokens import PortalTokens, TokenRefresher, TokenStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RestResponse:
    """One successful answer: `result` plus the paging and timing members."""

    result: Any
    total: int | None = None
    next: int | None = None
    time: Mapping[str, Any] | None = None


class BitrixClient:
    """Calls one portal's REST API on behalf of the app.

    Every request first takes a slot in the portal's shared leaky bucket, carries the access
    token as `auth` in a JSON body (never in the URL) and has a (connect, read) timeout. A method
    the portal blocked (429) is refused here until its reset time, alone (see operating.py).
    """

    def __init__(
        self,
        settings: BitrixSettings,
        *,
        member_id: str,
        client_endpoint: str,
        token_store: TokenStore,
        refresher: TokenRefresher,
        bucket: LeakyBucket,
        limits: OperatingLimits,
        session: requests.Session,
        sleep: Callable[[float], None] = time.sleep,
        rng: Callable[[], float] = random.random,
        clock: Callable[[], float] = time.time,
    ) -> None:
        host = urlsplit(client_endpoint).netloc
        self._endpoint = validate_client_endpoint(client_endpoint, host, settings.allow_http)
        self._settings = settings
        self._member_id = member_id
        self._store = token_store
        self._refresher = refresher
        self._bucket = bucket
        self._limits = limits
        self._session = session
        self._sleep = sleep
        self._rng = rng
        self._clock = clock

    def call(self, method: str, params: Mapping[str, Any] | None = None) -> RestResponse:
        """Call a method; refresh once on expired_token, back off on the portal's limits."""
        check_method(method)
        body = dict(params or {})
        if "auth" in body:
            raise ValueError("pass no `auth` parameter: the client adds the token")
        tokens = self._store.load(self._member_id)
        refreshed = False
        attempt = 0
        while True:
            try:
                response = self._send(method, body, tokens)
            except OverloadLimit as exc:
                self._limits.overloaded(self._member_id, method, exc.description)
                raise
            except ExpiredToken:
                if refreshed:
                    raise
                refreshed = True
                log.info(
                    "bitrix %s: access token expired for %s; refreshing", method, self._member_id
                )
                tokens = self._refresher.refresh(
                    self._member_id, stale_access_token=tokens.access_token
                )
            except (QueryLimitExceeded, OperationTimeLimit) as exc:
                if isinstance(exc, OperationTimeLimit):
                    until = self._limits.block(self._member_id, method, exc.operating_reset_at)
                    exc.details["operating_reset_at"] = until
                attempt += 1
                delay = self._retry_delay(attempt, exc)
                if delay is None:
                    raise
                log.warning("bitrix %s: %s, retry %d in %.1fs", method, exc.code, attempt, delay)
                self._sleep(delay)
            else:
                reset = (response.time or {}).get("operating_reset_at")
                resets = {method: float(reset)} if isinstance(reset, int | float) else {}
                self._limits.answered(self._member_id, resets)
                return response

    def batch(self, commands: Mapping[str, Command], *, halt: bool = False) -> BatchResult:
        """Run {name: (method, params)} in `batch` requests of 50; see batch.encode_chunks.

        Commands of a method the portal blocked (and those referring to their results) are not
        sent: each gets the OperationTimeLimit, with the time its method is free again.
        """
        methods = {name: method for name, (method, _) in commands.items()}
        merged = BatchResult(errors=self._refused(commands))
        if halt and merged.errors:
            return merged
        sending = {name: cmd for name, cmd in commands.items() if name not in merged.errors}
        for chunk in encode_chunks(sending):
            response = self.call("batch", {"halt": 1 if halt else 0, "cmd": chunk})
            part = parse_batch(response.result, {name: methods[name] for name in chunk})
            self._limits.answered(
                self._member_id, {methods[n]: t for n, t in part.resets.items() if n in methods}
            )
            for name, error in part.errors.items():
                if isinstance(error, OperationTimeLimit):
                    reset_at = error.operating_reset_at
                    until = self._limits.block(self._member_id, methods[name], reset_at)
                    error.details["operating_reset_at"] = until
            merged.merge(part)
            if halt and part.errors:
                break
        return merged

    def _refused(self, commands: Mapping[str, Command]) -> dict[str, BitrixError]:
        """The commands not to send now: a blocked method's, and those that use their results."""
        blocked = self._limits.blocked(self._member_id, (m for m, _ in commands.values()))
        refused: dict[str, BitrixError] = {}
        for name, (method, params) in commands.items():
            used = [refused[r] for r in references(params) if r in refused]
            if method in blocked or used:
                until = blocked.get(method) or used[0].details["operating_reset_at"]
                refused[name] = _still_blocked(method, until)
        return refused

    def list_all(
        self, method: str, params: Mapping[str, Any] | None = None, *, items_key: str | None = None
    ) -> Iterator[Any]:
        """Yield every item of a list method via `next`; crm.item.list needs items_key="items"."""
        query = dict(params or {})
        start = int(query.pop("start", 0) or 0)
        while True:
            response = self.call(method, {**query, "start": start})
            yield from _items(response.result, items_key, method)
            if response.next is None:
                return
            if response.next <= start:
                raise BitrixUnavailable("INVALID_RESPONSE", "`next` does not advance", None, method)
            start = response.next

    def _retry_delay(self, attempt: int, exc: BitrixError) -> float | None:
        """Return a capped, jittered delay before retry `attempt`, or None to give up."""
        s = self._settings
        if attempt > s.max_retries:
            return None
        delay = equal_jitter(attempt, s.backoff_base, s.backoff_cap, self._rng)
        if isinstance(exc, OperationTimeLimit) and exc.operating_reset_at is not None:
            until = exc.operating_reset_at - self._clock()
            if until > s.backoff_cap:
                return None  # blocked for minutes: let the job be rescheduled instead
            delay = max(delay, until + self._rng())
        return delay

    def _send(self, method: str, body: dict[str, Any], tokens: PortalTokens) -> RestResponse:
        """Wait for a slot, POST once, and turn the answer into a RestResponse or an error."""
        s = self._settings
        blocked = self._limits.blocked(self._member_id, [method]).get(method)
        if blocked is not None:  # asked again before the reset: the portal would refuse it too
            raise _still_blocked(method, blocked)
        wait = self._bucket.reserve(
            self._member_id, rate=s.rate, burst=s.burst, margin=s.burst_margin
        )
        if wait > 0:
            self._sleep(wait)
        url = f"{self._endpoint}{method}.json"
        log.debug("bitrix POST %s %s", url, _preview(mask(body)))
        payload = json.dumps({**body, "auth": tokens.access_token}, default=_json_default)
        try:
            resp = self._session.post(
                url,
                data=payload.encode(),
                headers={"Content-Type": "application/json", "Accept": "application/json"},
                timeout=s.timeout,
                allow_redirects=False,
            )
        except requests.Timeout as exc:
            raise BitrixUnavailable(
                "TIMEOUT", "no answer in time; outcome unknown", None, method
            ) from exc
        except requests.RequestException as exc:
            raise BitrixUnavailable("CONNECTION_ERROR", type(exc).__name__, None, method) from exc
        return _parse(resp, method)


def _still_blocked(method: str, until: float) -> OperationTimeLimit:
    """The error of a method the portal blocked, refused here without asking it again."""
    return OperationTimeLimit(
        "OPERATION_TIME_LIMIT",
        "the portal blocked this method until its operating time resets",
        None,
        method,
        details={"operating_reset_at": until},
    )


def _parse(resp: requests.Response, method: str) -> RestResponse:
    """Map one HTTP answer to a RestResponse or raise the typed error."""
    try:
        data = resp.json()
    except ValueError:
        data = None
    error = error_from_response(resp.status_code, data, method=method)
    if error is not None:
        log.info("bitrix %s failed: %s", method, error)
        raise error
    if 300 <= resp.status_code < 400:
        target = urlsplit(resp.headers.get("Location", "")).netloc or "?"
        raise BadRequest("REDIRECT", f"redirected to {target}", resp.status_code, method)
    if not isinstance(data, Mapping) or "result" not in data:
        raise BitrixUnavailable(
            "INVALID_RESPONSE", "no `result` in the answer", resp.status_code, method
        )
    time_info = data.get("time")
    return RestResponse(
        result=data["result"],
        total=_int_or_none(data.get("total")),
        next=_int_or_none(data.get("next")),
        time=time_info if isinstance(time_info, Mapping) else None,
    )


def _items(result: Any, items_key: str | None, method: str) -> list[Any]:
    """Return the items of one page: a bare list, or result[items_key]."""
    if items_key is not None and isinstance(result, Mapping):
        result = result.get(items_key, [])
    if result == [] or result == {}:
        return []
    if not isinstance(result, list):
        hint = "" if items_key else "; pass items_key (crm.item.list: items_key='items')"
        raise TypeError(f"{method} did not return a list of items{hint}")
    return result


def _int_or_none(value: Any) -> int | None:
    """Return value as an int, or None when absent or not a number."""
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None


def _json_default(value: Any) -> Any:
    """Encode Decimals as strings and dates as ISO 8601 in request bodies."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot send {type(value).__name__} to Bitrix24")


def _preview(value: Any, limit: int = 500) -> str:
    """Return a short JSON rendering for debug logs."""
    text = json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit] + "..."
