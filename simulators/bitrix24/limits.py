"""Leaky-bucket rate limit, operating-time limit and failure switches."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from .config import SimConfig
from .util import ApiError, Clock, time_block

WINDOW = 600.0


class LeakyBucket:
    """Per (portal, source IP) counter: +1 per request, drains Y/s, refuses above X."""

    def __init__(self, cfg: SimConfig, clock: Clock) -> None:
        self.cfg = cfg
        self.clock = clock
        self.levels: dict[str, tuple[float, float]] = {}

    def hit(self, key: str) -> None:
        """Count one request or raise 503 QUERY_LIMIT_EXCEEDED."""
        if not self.cfg.rate_limit:
            return
        now = self.clock.now()
        level, last = self.levels.get(key, (0.0, now))
        level = max(0.0, level - (now - last) * self.cfg.rate_drain)
        if level + 1 > self.cfg.rate_burst + 1e-9:
            self.levels[key] = (level, now)
            raise ApiError("QUERY_LIMIT_EXCEEDED", "Too many requests", 503)
        self.levels[key] = (level + 1, now)

    def level(self, key: str) -> float:
        """Current counter value (after draining)."""
        now = self.clock.now()
        level, last = self.levels.get(key, (0.0, now))
        return max(0.0, level - (now - last) * self.cfg.rate_drain)

    def reset(self) -> None:
        """Empty every bucket."""
        self.levels.clear()


class OperatingTime:
    """Accumulated execution time per (app, method) in one-minute buckets over 10 minutes."""

    def __init__(self, cfg: SimConfig, clock: Clock) -> None:
        self.cfg = cfg
        self.clock = clock
        self.buckets: dict[str, dict[int, float]] = {}

    def used(self, method: str) -> tuple[float, float]:
        """(seconds used in the window, reset-at unix time)."""
        now = self.clock.now()
        minute = int(now // 60)
        b = self.buckets.setdefault(method, {})
        for m in [m for m in b if m <= minute - 10]:
            del b[m]
        oldest = min(b) if b else minute
        return sum(b.values()), (oldest + 10) * 60.0

    def check(self, method: str) -> None:
        """Raise 429 OPERATION_TIME_LIMIT when the method is blocked.

        The error carries the envelope's `time` (with `operating_reset_at`) as a top-level answer
        does; a batch member's error keeps only `error` and `error_description`.
        """
        used, reset_at = self.used(method)
        if used > self.cfg.operating_limit:
            now = self.clock.now()
            raise ApiError(
                "OPERATION_TIME_LIMIT",
                "Method is blocked due to operation time limit.",
                429,
                time=time_block(now, now, used, reset_at),
            )

    def add(self, method: str, seconds: float) -> None:
        """Record execution time."""
        minute = int(self.clock.now() // 60)
        b = self.buckets.setdefault(method, {})
        b[minute] = b.get(minute, 0.0) + seconds

    def reset(self) -> None:
        """Forget all usage."""
        self.buckets.clear()


@dataclass
class Faults:
    """Failure switches (set via POST /_sim/faults or CLI flags)."""

    fail_next: int = 0
    fail_method: str = ""
    delay: float = 0.0
    delay_method: str = ""
    down_calls: int = 0
    down_until: float = 0.0
    payment_required: bool = False
    drop_handler_calls: int = 0
    oauth_down_calls: int = 0
    overload_limit: bool = False  # support's manual block: every call 503 OVERLOAD_LIMIT

    def to_dict(self) -> dict[str, Any]:
        """JSON view."""
        return asdict(self)

    def update(self, changes: dict[str, Any], now: float) -> list[str]:
        """Apply changes; `down_seconds` sets down_until; return unknown names."""
        unknown = []
        for key, value in changes.items():
            if key == "down_seconds":
                self.down_until = now + float(value)
            elif hasattr(self, key):
                cur = getattr(self, key)
                setattr(self, key, type(cur)(value) if not isinstance(cur, bool) else bool(value))
            else:
                unknown.append(key)
        return unknown

    def before_call(self, method: str, now: float) -> float:
        """Raise a forced failure for this call, or return the delay to apply."""
        if self.down_calls > 0 or now < self.down_until:
            if self.down_calls > 0:
                self.down_calls -= 1
            raise ApiError(
                "SERVICE_UNAVAILABLE", "Service temporarily unavailable", 503, _html=True
            )
        if self.overload_limit:
            raise ApiError("OVERLOAD_LIMIT", "REST API is blocked due to overload.", 503)
        if self.fail_next > 0 and (not self.fail_method or self.fail_method == method):
            self.fail_next -= 1
            raise ApiError("INTERNAL_SERVER_ERROR", "Internal server error", 500)
        if self.delay and (not self.delay_method or self.delay_method == method):
            return self.delay
        return 0.0
