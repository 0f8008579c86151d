"""The faults a campaign injects, chosen by a seeded RNG: processes, Redis, Linkly, Bitrix24."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from bench.shop import Sim
from bench.stack import Stack

EVENT_TYPES = ("display", "receipt", "transaction")
LINKLY_STATUSES = (408, 500, 502, 503, 504)


class Injector:
    """Fires one fault every few seconds until stopped; records what it did and when."""

    def __init__(
        self, stack: Stack, sim: Sim, rng: random.Random, every: tuple[float, float],
        down_seconds: float, expected_seconds: float,
    ) -> None:  # fmt: skip
        self.stack = stack
        self.sim = sim
        self.rng = rng
        self.every = every
        self.down_seconds = down_seconds  # Bitrix24 down once per campaign, for this long
        self.expected_seconds = expected_seconds  # how long faults will fire, about
        self.log: list[dict[str, Any]] = []
        self.counts: Counter[str] = Counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="chaos", daemon=True)
        self._t0 = 0.0
        self.catalogue: list[tuple[str, int, Callable[[], dict[str, Any]]]] = [
            ("worker SIGKILL", 3, self.kill_worker),
            ("Redis restart", 1, self.restart_redis),
            ("Linkly response dropped after charging", 3, self.linkly_drop),
            ("Linkly 408/5xx on a transaction POST", 3, self.linkly_post_error),
            ("Linkly 408/5xx on a status GET", 2, self.linkly_get_error),
            ("events lost", 3, self.events_lost),
            ("events duplicated", 2, self.events_duplicated),
            ("events delayed", 2, self.events_delayed),
            ("events reordered", 2, self.events_reordered),
            ("notification endpoint unreachable", 1, self.notify_unreachable),
            ("Bitrix24 500", 2, self.bitrix_500),
            ("Bitrix24 503", 2, self.bitrix_503),
            ("Bitrix24 expired_token", 2, self.bitrix_expired),
        ]

    # -- control ---------------------------------------------------------------------------
    def start(self) -> None:
        """Start firing."""
        self._t0 = time.monotonic()
        self._thread.start()

    def stop(self) -> None:
        """Stop firing, disarm every simulator fault and bring every process back."""
        self._stop.set()
        self._thread.join(timeout=120)
        self.sim.lk("DELETE", "faults")
        self.sim.b24("POST", "faults/reset")
        for name in self.stack.dead():
            self.stack.restart(name)

    def _run(self) -> None:
        names = [c[0] for c in self.catalogue]
        weights = [c[1] for c in self.catalogue]
        actions = {c[0]: c[2] for c in self.catalogue}
        # The minute-long outage, a third of the way in.
        down_at: float | None = self.rng.uniform(0.3, 0.5)
        while not self._stop.wait(self.rng.uniform(*self.every)):
            name = self.rng.choices(names, weights)[0]
            if down_at is not None and self._elapsed_share() >= down_at and self.down_seconds:
                name, down_at = "Bitrix24 down", None
                detail = self.bitrix_down()
            else:
                detail = actions[name]()
            self.counts[name] += 1
            self.log.append({"t": round(time.monotonic() - self._t0, 1), "fault": name, **detail})

    def _elapsed_share(self) -> float:
        return min(1.0, (time.monotonic() - self._t0) / max(1.0, self.expected_seconds))

    # -- processes ---------------------------------------------------------------------------
    def kill_worker(self) -> dict[str, Any]:
        """SIGKILL one RQ worker (mid-job, often), restart it a moment later like a supervisor."""
        workers = sorted(n for n in self.stack.procs if n.startswith("worker-"))
        name = self.rng.choice(workers)
        self.stack.kill(name)
        pause = round(self.rng.uniform(0.5, 3.0), 1)
        time.sleep(pause)
        self.stack.restart(name)
        return {"process": name, "down_s": pause}

    def restart_redis(self) -> dict[str, Any]:
        """SIGKILL Redis (no persistence: every queue, lock and cached token is lost), restart."""
        self.stack.kill("redis")
        pause = round(self.rng.uniform(0.5, 3.0), 1)
        time.sleep(pause)
        self.stack.restart("redis")
        return {"down_s": pause}

    # -- Linkly --------------------------------------------------------------------------------
    def _linkly(self, spec: dict[str, Any]) -> dict[str, Any]:
        self.sim.lk("POST", "faults", spec)
        return {"spec": spec}

    def linkly_drop(self) -> dict[str, Any]:
        """The transaction runs, the answer never comes."""
        return self._linkly({"fault": "drop_response", "count": self.rng.randint(1, 3)})

    def linkly_post_error(self) -> dict[str, Any]:
        """408/5xx on a transaction POST, processed (charged) or not."""
        params = {"status": self.rng.choice(LINKLY_STATUSES), "on": "post",
                  "processed": self.rng.random() < 0.5}  # fmt: skip
        return self._linkly({"fault": "http_error", "count": self.rng.randint(1, 3),
                             "params": params})  # fmt: skip

    def linkly_get_error(self) -> dict[str, Any]:
        """408/5xx on recovery GETs."""
        params = {"status": self.rng.choice(LINKLY_STATUSES), "on": "get"}
        return self._linkly({"fault": "http_error", "count": self.rng.randint(1, 4),
                             "params": params})  # fmt: skip

    def _types(self) -> list[str]:
        return self.rng.sample(EVENT_TYPES, self.rng.randint(1, len(EVENT_TYPES)))

    def events_lost(self) -> dict[str, Any]:
        """Notifications of some types are never sent for the next transactions."""
        return self._linkly({"fault": "events_lost", "count": self.rng.randint(1, 4),
                             "params": {"types": self._types()}})  # fmt: skip

    def events_duplicated(self) -> dict[str, Any]:
        """Notifications sent two or three times."""
        return self._linkly({"fault": "events_duplicated", "count": self.rng.randint(1, 4),
                             "params": {"types": self._types(),
                                        "times": self.rng.randint(2, 3)}})  # fmt: skip

    def events_delayed(self) -> dict[str, Any]:
        """Every notification of the next transactions arrives seconds late."""
        return self._linkly({"fault": "events_delayed", "count": self.rng.randint(1, 4),
                             "params": {"seconds": round(self.rng.uniform(1, 8), 1)}})  # fmt: skip

    def events_reordered(self) -> dict[str, Any]:
        """The final event before the display and receipt events."""
        return self._linkly({"fault": "events_reordered", "count": self.rng.randint(1, 4)})

    def notify_unreachable(self) -> dict[str, Any]:
        """Our notification endpoint cannot be reached for the next transactions."""
        return self._linkly({"fault": "notify_unreachable", "count": self.rng.randint(1, 3),
                             "params": {"types": list(EVENT_TYPES)}})  # fmt: skip

    # -- Bitrix24 ------------------------------------------------------------------------------
    def bitrix_500(self) -> dict[str, Any]:
        """The next few REST calls answer 500."""
        n = self.rng.randint(1, 4)
        self.sim.b24("POST", "faults", {"fail_next": n})
        return {"calls": n}

    def bitrix_503(self) -> dict[str, Any]:
        """The next few REST calls answer 503."""
        n = self.rng.randint(1, 4)
        self.sim.b24("POST", "faults", {"down_calls": n})
        return {"calls": n}

    def bitrix_expired(self) -> dict[str, Any]:
        """Every access token expires now (expired_token until refreshed)."""
        self.sim.b24("POST", "tokens/expire")
        return {}

    def bitrix_down(self) -> dict[str, Any]:
        """The portal answers 503 to everything for a while."""
        self.sim.b24("POST", "faults", {"down_seconds": self.down_seconds})
        return {"seconds": self.down_seconds}
