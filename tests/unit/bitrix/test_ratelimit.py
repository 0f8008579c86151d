"""The shared leaky bucket keeps the portal's own bucket from overflowing."""

from __future__ import annotations

import multiprocessing
import random

import pytest
import redis

from bizproc_app.bitrix import LeakyBucket
from tests.helpers.clocks import FakeClock
from tests.unit.bitrix.helpers import MEMBER_ID, process_reserve


def server_peak(send_times: list[float], rate: float) -> float:
    """Simulate the portal's bucket (+1 per request, drains `rate`/s); return its peak level."""
    level, last, peak = 0.0, None, 0.0
    for t in sorted(send_times):
        if last is not None:
            level = max(0.0, level - (t - last) * rate)
        level += 1
        last = t
        peak = max(peak, level)
    return peak


def test_burst_of_300_never_overflows(redis_client: redis.Redis) -> None:
    clock = FakeClock()
    bucket = LeakyBucket(redis_client, clock=clock)
    waits = [bucket.reserve(MEMBER_ID, rate=2.0, burst=50, margin=5) for _ in range(300)]
    sends = [clock.now + w for w in waits]
    assert server_peak(sends, 2.0) <= 45 + 1e-6
    assert waits[:45] == [0.0] * 45  # the burst head-room is used at once
    assert waits[45] == pytest.approx(0.5)
    assert waits[-1] == pytest.approx((300 - 45) / 2)  # then exactly the drain rate


def test_random_arrivals_never_overflow(redis_client: redis.Redis) -> None:
    clock = FakeClock()
    bucket = LeakyBucket(redis_client, clock=clock)
    rng = random.Random(7)
    sends = []
    for _ in range(1000):
        clock.now += rng.choice([0.0, 0.0, 0.01, 0.1, 0.5, 2.0, 20.0])
        sends.append(clock.now + bucket.reserve(MEMBER_ID, rate=2.0, burst=50, margin=5))
    assert server_peak(sends, 2.0) <= 45 + 1e-6


def test_idle_bucket_drains(redis_client: redis.Redis) -> None:
    clock = FakeClock()
    bucket = LeakyBucket(redis_client, clock=clock)
    for _ in range(45):
        bucket.reserve(MEMBER_ID, rate=2.0, burst=50, margin=5)
    assert bucket.reserve(MEMBER_ID, rate=2.0, burst=50, margin=5) == pytest.approx(0.5)
    clock.now += 60
    assert bucket.reserve(MEMBER_ID, rate=2.0, burst=50, margin=5) == 0.0


def test_per_portal_limits(redis_client: redis.Redis) -> None:
    clock = FakeClock()
    bucket = LeakyBucket(redis_client, clock=clock)
    bucket.set_limits(MEMBER_ID, 5, 250)
    waits = [bucket.reserve(MEMBER_ID, rate=2.0, burst=50, margin=5) for _ in range(400)]
    assert waits[:245] == [0.0] * 245
    assert waits[245] == pytest.approx(0.2)
    assert server_peak([clock.now + w for w in waits], 5.0) <= 245 + 1e-6
    other = [bucket.reserve("other-portal", rate=2.0, burst=50, margin=5) for _ in range(46)]
    assert other[-1] == pytest.approx(0.5)  # the other portal keeps the defaults
    bucket.clear_limits(MEMBER_ID)
    clock.now += 3600
    waits = [bucket.reserve(MEMBER_ID, rate=2.0, burst=50, margin=5) for _ in range(46)]
    assert waits[-1] == pytest.approx(0.5)


def test_redis_clock_is_used_by_default(redis_client: redis.Redis) -> None:
    bucket = LeakyBucket(redis_client)
    waits = [bucket.reserve(MEMBER_ID, rate=2.0, burst=10, margin=0) for _ in range(20)]
    assert waits[:10] == [0.0] * 10
    assert waits[10] == pytest.approx(0.5, abs=0.05)
    assert waits[19] == pytest.approx(5.0, abs=0.05)
    assert 0 < redis_client.pttl(f"bitrix:bucket:{{{MEMBER_ID}}}:tat") <= 12_000


@pytest.mark.parametrize(("rate", "burst"), [(0, 50), (-1, 50), (2, 0)])
def test_bad_limits(redis_client: redis.Redis, rate, burst) -> None:
    bucket = LeakyBucket(redis_client)
    with pytest.raises(ValueError):
        bucket.reserve(MEMBER_ID, rate=rate, burst=burst)
    with pytest.raises(ValueError):
        bucket.set_limits(MEMBER_ID, rate, burst)


def test_margin_never_blocks_everything(redis_client: redis.Redis) -> None:
    bucket = LeakyBucket(redis_client, clock=FakeClock())
    assert bucket.reserve(MEMBER_ID, rate=1, burst=3, margin=5) == 0.0
    assert bucket.reserve(MEMBER_ID, rate=1, burst=3, margin=5) == pytest.approx(1.0)


def test_two_processes_share_the_bucket(redis_url: str, redis_client: redis.Redis) -> None:
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    procs = [ctx.Process(target=process_reserve, args=(redis_url, barrier, 100)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=60)
    assert [p.exitcode for p in procs] == [0, 0]
    sends = [float(x) for x in redis_client.lrange("test:sends", 0, -1)]
    assert len(sends) == 200
    assert server_peak(sends, 2.0) <= 45.5  # 45 plus a little clock read skew
    span = max(sends) - min(sends)
    assert span == pytest.approx((200 - 45) / 2, abs=1.0)  # one schedule, not two
