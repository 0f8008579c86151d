"""The one back-off rule for retrying an outside call: capped exponential, "equal jitter"."""

from __future__ import annotations

from collections.abc import Callable


def equal_jitter(attempt: int, base: float, cap: float, rng: Callable[[], float]) -> float:
    """Half of min(cap, base * 2**(attempt - 1)) plus a random part of the other half.

    Never near zero, so a retry loop cannot spin; `rng` (0 <= x < 1) is injectable for tests.
    """
    if attempt < 1 or base <= 0 or cap < base:
        raise ValueError("need attempt >= 1 and 0 < base <= cap")
    ceiling: float = min(cap, base * 2 ** (attempt - 1))
    return ceiling / 2 + rng() * ceiling / 2
