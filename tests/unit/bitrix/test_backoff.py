"""The one back-off rule: jittered, bounded by its cap, deterministic with a seeded rng."""

from __future__ import annotations

import random

import pytest

from bizproc_app.bitrix.backoff import equal_jitter


def test_delays_are_jittered_bounded_and_deterministic() -> None:
    first, second = random.Random(7), random.Random(7)
    a = [equal_jitter(n, 2.0, 30.0, first.random) for n in range(1, 11)]
    assert a == [equal_jitter(n, 2.0, 30.0, second.random) for n in range(1, 11)]
    ceilings = [2, 4, 8, 16, 30, 30, 30, 30, 30, 30]
    for delay, ceiling in zip(a, ceilings, strict=True):
        assert ceiling / 2 <= delay <= ceiling
    with pytest.raises(ValueError):
        equal_jitter(1, 0, 1, random.random)
