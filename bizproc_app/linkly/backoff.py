"""Jittered exponential backoff for callers that poll the recovery GET or retry non-money calls."""

from __future__ import annotations

import random
from collections.abc import Iterator


def backoff_delays(
    base: float = 2.0, cap: float = 30.0, rng: random.Random | None = None
) -> Iterator[float]:
    """Yield endless "equal jitter" delays: half of min(cap, base * 2**n) plus a random half.

    Never near zero, so a poller cannot spin; `rng` is injectable for deterministic tests.
    """
    if base <= 0 or cap < base:
        raise ValueError("need 0 < base <= cap")
    rng = rng or random.Random()
    attempt = 0
    while True:
        ceiling = min(cap, base * 2**attempt)
        yield ceiling / 2 + rng.uniform(0, ceiling / 2)
        if ceiling < cap:
            attempt += 1
