"""Shared helpers: the adjustable clock, id generators, errors and the REST envelope."""

from __future__ import annotations

import random
import secrets
import string
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

PORTAL_TZ = timezone(timedelta(hours=3))


class Clock:
    """Wall clock plus an offset that tests can advance."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        """Current simulated unix time."""
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        """Move simulated time forward."""
        self.offset += seconds


def iso(ts: float | None) -> str | None:
    """ISO 8601 with the portal's offset (as Bitrix24 renders dates)."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, PORTAL_TZ).isoformat(timespec="seconds")


def iso_utc(ts: float) -> str:
    """ISO 8601 in UTC."""
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


def hex_id(n: int = 32) -> str:
    """Random lowercase hex string of n chars."""
    return secrets.token_hex(n // 2 + 1)[:n]


def alnum(n: int = 32) -> str:
    """Random alphanumeric string."""
    chars = string.ascii_letters + string.digits
    return "".join(secrets.choice(chars) for _ in range(n))


def uniqid(ts: float) -> str:
    """PHP uniqid('', true)-like id: 14 hex chars, a dot, 8 digits."""
    sec = int(ts)
    usec = int((ts - sec) * 1_000_000)
    return f"{sec:08x}{usec:05x}{random.randrange(16):x}.{random.randrange(10**8):08d}"


def activity_name() -> str:
    """A workflow-template activity name like A40364_79843_85254_57332."""
    return "A" + "_".join(f"{random.randrange(10**5):05d}" for _ in range(4))


class ApiError(Exception):
    """A REST error: `error` (str, '' or int), description, HTTP status and extra keys."""

    def __init__(self, error: Any, description: str = "", status: int = 400, **extra: Any) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status
        self.extra = extra

    def body(self) -> dict[str, Any]:
        """The JSON error body."""
        return {"error": self.error, "error_description": self.description, **self.extra}


@dataclass
class Paged:
    """A list result with paging info."""

    items: Any
    total: int | None = None
    next: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def time_block(start: float, finish: float, operating: float, reset_at: float) -> dict[str, Any]:
    """The envelope's `time` object."""
    return {
        "start": start,
        "finish": finish,
        "duration": finish - start,
        "processing": max(finish - start - 0.0001, 0.0),
        "date_start": iso(start),
        "date_finish": iso(finish),
        "operating_reset_at": int(reset_at),
        "operating": operating,
    }


def truthy(value: Any) -> bool:
    """Bitrix-style boolean: Y/1/true."""
    if isinstance(value, str):
        return value.strip().upper() in ("Y", "1", "TRUE", "YES")
    return bool(value)


def to_int(value: Any, default: int | None = None) -> int | None:
    """Parse an int (from str/float) or return default."""
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return default


def upper_keys(data: Any) -> dict[str, Any]:
    """Top-level keys upper-cased (Bitrix does this for many methods)."""
    if not isinstance(data, dict):
        return {}
    return {str(k).upper(): v for k, v in data.items()}


def page(items: list[Any], start: Any, size: int) -> Paged:
    """Cut one page of `size`; start=-1 disables the total count."""
    s = to_int(start, 0) or 0
    if s == -1:
        return Paged(items[:size])
    s = max(s, 0)
    chunk = items[s : s + size]
    nxt = s + size if s + size < len(items) else None
    return Paged(chunk, total=len(items), next=nxt)
