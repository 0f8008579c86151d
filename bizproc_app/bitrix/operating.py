"""Which REST methods a portal has blocked for the app, and until when (shared in Redis).

Bitrix24 adds up each method's execution time over 10 minutes and blocks the method alone with
429 `OPERATION_TIME_LIMIT` once it passes the limit; every answer's `time.operating_reset_at`
(and each batch member's `result_time`) says when that method's count resets. The last reset time
seen per method is kept, so a 429 that carries none (a batch member's) still blocks that method,
and only it, until then; the client refuses it locally meanwhile instead of asking again.
`OVERLOAD_LIMIT` is support's manual block of the app: it is kept as a flag for the admins until
a call succeeds again.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, cast

import redis

# The limit's window: how long a method stays blocked when no reset time was ever seen.
DEFAULT_BLOCK_SECONDS = 600.0
# What the admins are told while support's block lasts.
OVERLOAD_ADVICE = (
    "Bitrix24 support has blocked this app's calls to your portal (OVERLOAD_LIMIT). Card payments "
    "still run on the PIN pads; their records in Bitrix24 wait until Bitrix24 support lifts the "
    "block: please ask them to."
)
KEEP_SECONDS = 900  # reset times older than a window are of no use


class OperatingLimits:
    """Per portal (member id): the methods blocked until a time, and support's manual block."""

    def __init__(self, redis_client: redis.Redis, clock: Callable[[], float] = time.time) -> None:
        self._redis = redis_client
        self._clock = clock

    def answered(self, member_id: str, resets: Mapping[str, float]) -> None:
        """Calls that succeeded: keep each method's reset time; any manual block is over."""
        pipe = self._redis.pipeline(transaction=False)
        if resets:
            pipe.hset(_key(member_id, "reset"), mapping={m: repr(t) for m, t in resets.items()})
            pipe.expire(_key(member_id, "reset"), KEEP_SECONDS)
        pipe.delete(_key(member_id, "overload"))
        pipe.execute()

    def block(self, member_id: str, method: str, reset_at: float | None) -> float:
        """The method answered 429: block it until its reset time; return that time."""
        now = self._clock()
        if reset_at is None or reset_at <= now:
            seen = cast("bytes | None", self._redis.hget(_key(member_id, "reset"), method))
            reset_at = float(seen) if seen is not None else None
        if reset_at is None or reset_at <= now:
            reset_at = now + DEFAULT_BLOCK_SECONDS
        key = _key(member_id, "blocked")
        pipe = self._redis.pipeline(transaction=False)
        pipe.hset(key, method, repr(reset_at))
        pipe.expire(key, int(reset_at - now) + 60)
        pipe.execute()
        return reset_at

    def blocked(self, member_id: str, methods: Iterable[str]) -> dict[str, float]:
        """The given methods that are blocked now, with the time each is free again."""
        names = list(dict.fromkeys(methods))
        if not names:
            return {}
        now = self._clock()
        values = cast("list[bytes | None]", self._redis.hmget(_key(member_id, "blocked"), names))
        return {m: float(v) for m, v in zip(names, values, strict=True) if v and float(v) > now}

    def overloaded(self, member_id: str, method: str, description: str) -> None:
        """Support blocked the app (OVERLOAD_LIMIT): remember since when, for the admins."""
        detail = {"since": self._clock(), "method": method, "description": description[:200]}
        self._redis.set(_key(member_id, "overload"), json.dumps(detail), nx=True)

    def overload(self, member_id: str) -> dict[str, Any] | None:
        """Support's manual block, if the last answer was one: {since, method, description}."""
        raw = cast("bytes | None", self._redis.get(_key(member_id, "overload")))
        detail: dict[str, Any] | None = json.loads(raw) if raw else None
        return detail


def _key(member_id: str, part: str) -> str:
    return f"bitrix:limits:{member_id}:{part}"
