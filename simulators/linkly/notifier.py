"""Notification delivery: a small fixed thread pool, per-session ordering, a delivery log."""

from __future__ import annotations

import itertools
import queue
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import requests

from .config import SimulatorConfig
from .scheduler import Scheduler


@dataclass
class Delivery:
    """One event to POST to a POS notification endpoint."""

    key: str
    session_id: str
    type: str
    uri: str
    authorization: str | None
    body: bytes
    unreachable: bool = False
    attempt: int = 1


class Notifier:
    """Deliver events in order per session using a fixed pool of worker threads."""

    def __init__(self, config: SimulatorConfig, scheduler: Scheduler) -> None:
        """Create the pool (not started)."""
        self._config = config
        self._scheduler = scheduler
        self._lock = threading.Lock()
        self._queues: dict[str, deque[Delivery]] = {}
        self._active: set[str] = set()
        self._work: queue.Queue[str | None] = queue.Queue()
        self._log: deque[dict[str, Any]] = deque(maxlen=200_000)
        self._ids = itertools.count(1)
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        """Start the worker threads."""
        for i in range(max(1, self._config.notify_workers)):
            t = threading.Thread(target=self._worker, name=f"linkly-notify-{i}", daemon=True)
            t.start()
            self._threads.append(t)

    def stop(self) -> None:
        """Stop the workers (pending deliveries are dropped)."""
        for _ in self._threads:
            self._work.put(None)
        for t in self._threads:
            t.join(timeout=2)
        self._threads.clear()

    def submit(self, delivery: Delivery) -> None:
        """Queue a delivery behind earlier ones of the same session."""
        with self._lock:
            self._queues.setdefault(delivery.key, deque()).append(delivery)
            if delivery.key in self._active:
                return
            self._active.add(delivery.key)
        self._work.put(delivery.key)

    def record(self, d: Delivery, **outcome: Any) -> None:
        """Append one attempt (or a deliberate drop) to the delivery log."""
        entry = {
            "id": next(self._ids),
            "sessionId": d.session_id,
            "type": d.type,
            "uri": d.uri,
            "attempt": d.attempt,
            "at": datetime.now(UTC).isoformat(),
            "status": None,
            "error": None,
            "ok": False,
            "dropped": False,
        }
        entry.update(outcome)
        with self._lock:
            self._log.append(entry)

    def log(self, session_id: str | None = None, type_: str | None = None) -> list[dict[str, Any]]:
        """Return delivery log entries, optionally filtered."""
        with self._lock:
            rows = list(self._log)
        norm = session_id.replace("-", "").lower() if session_id else None
        return [
            r
            for r in rows
            if (norm is None or r["sessionId"].replace("-", "").lower() == norm)
            and (type_ is None or r["type"] == type_)
        ]

    def clear(self) -> None:
        """Forget the log and pending deliveries."""
        with self._lock:
            self._log.clear()
            for q in self._queues.values():
                q.clear()

    def _worker(self) -> None:
        """Drain session queues one at a time, retrying failures via the scheduler."""
        http = requests.Session()
        while True:
            key = self._work.get()
            if key is None:
                http.close()
                return
            while True:
                with self._lock:
                    q = self._queues.get(key)
                    if not q:
                        self._active.discard(key)
                        self._queues.pop(key, None)
                        break
                    d = q.popleft()
                if self._deliver(http, d) or d.attempt > self._config.notify_retries:
                    continue
                d.attempt += 1
                with self._lock:
                    q.appendleft(d)
                self._scheduler.call_later(
                    self._config.notify_retry_delay, lambda k=key: self._work.put(k)
                )
                break

    def _deliver(self, http: requests.Session, d: Delivery) -> bool:
        """POST one event; log the attempt; return True on 2xx."""
        if d.unreachable:
            self.record(d, error="simulated: notification endpoint unreachable")
            return False
        headers = {"Content-Type": "application/json"}
        if d.authorization:
            headers["Authorization"] = d.authorization
        started = time.monotonic()
        try:
            resp = http.post(
                d.uri, data=d.body, headers=headers, timeout=self._config.notify_timeout
            )
            resp.close()
        except Exception as exc:  # any failure is a failed delivery
            self.record(
                d,
                error=f"{type(exc).__name__}: {exc}",
                ms=round((time.monotonic() - started) * 1000, 1),
            )
            return False
        ok = 200 <= resp.status_code < 300
        self.record(
            d, status=resp.status_code, ok=ok, ms=round((time.monotonic() - started) * 1000, 1)
        )
        return ok
