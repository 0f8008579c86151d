"""A per-portal leaky bucket in Redis, shared by every process that calls the portal."""

from __future__ import annotations

from collections.abc import Callable

import redis

# GCRA (virtual scheduling), in integer microseconds so doubles stay exact. `tat` is the time
# the portal's bucket would be empty again after every reservation so far. A request may be
# sent once the bucket holds at most allowed-1 requests, i.e. at tat - (allowed-1)*interval;
# the reservation is recorded at once, so concurrent callers queue in arrival order.
_RESERVE = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local margin = tonumber(ARGV[3])
local now = tonumber(ARGV[4])
if now < 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local limits = redis.call('HMGET', KEYS[2], 'rate', 'burst')
if limits[1] then rate = tonumber(limits[1]) end
if limits[2] then burst = tonumber(limits[2]) end
local allowed = burst - margin
if allowed < 1 then allowed = 1 end
local interval = math.ceil(1000000 / rate)
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local wait = tat - (allowed - 1) * interval - now
if wait < 0 then wait = 0 end
local new_tat = tat + interval
local ttl = math.ceil((new_tat - now) / 1000) + 1000
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', ttl)
return string.format('%.0f', wait)
"""


class LeakyBucket:
    """Spaces requests so a portal's own bucket (+1 per request, drains `rate`/s) never overflows.

    The portal counts per source IP, so every worker on this host must reserve here. Reserving
    keeps `margin` requests of head-room for clock jitter, network reordering and callers we do
    not see. A reservation cannot be given back: sleep the returned time, then send.
    """

    def __init__(
        self,
        redis_client: redis.Redis,
        *,
        prefix: str = "bitrix:bucket:",
        clock: Callable[[], float] | None = None,
    ) -> None:
        self._redis = redis_client
        self._prefix = prefix
        self._clock = clock  # None: Redis's own clock, the same for every process
        self._script = redis_client.register_script(_RESERVE)

    def _keys(self, member_id: str) -> tuple[str, str]:
        """Return the schedule and limits keys; the hash tag keeps them in one cluster slot."""
        return f"{self._prefix}{{{member_id}}}:tat", f"{self._prefix}{{{member_id}}}:limits"

    def reserve(self, member_id: str, *, rate: float, burst: int, margin: int = 5) -> float:
        """Reserve one request now; return the seconds to wait before sending it."""
        if rate <= 0 or burst < 1:
            raise ValueError("need rate > 0 and burst >= 1")
        now = -1 if self._clock is None else int(self._clock() * 1_000_000)
        wait_us = self._script(keys=self._keys(member_id), args=[rate, burst, margin, now])
        return int(wait_us) / 1_000_000

    def set_limits(self, member_id: str, rate: float, burst: int) -> None:
        """Store a portal's own limits (Enterprise: 5/s, 250); reserve prefers them."""
        if rate <= 0 or burst < 1:
            raise ValueError("need rate > 0 and burst >= 1")
        self._redis.hset(self._keys(member_id)[1], mapping={"rate": rate, "burst": burst})

    def clear_limits(self, member_id: str) -> None:
        """Forget a portal's own limits; the defaults passed to reserve apply again."""
        self._redis.delete(self._keys(member_id)[1])
