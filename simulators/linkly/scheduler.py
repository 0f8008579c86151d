"""One thread and a heap of timed callbacks drive every PIN pad script."""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)


class Timer:
    """Handle of a scheduled callback; cancel() prevents it from running."""

    __slots__ = ("cancelled", "due", "fn")

    def __init__(self, due: float, fn: Callable[[], None]) -> None:
        """Remember when and what to run."""
        self.due = due
        self.fn = fn
        self.cancelled = False

    def cancel(self) -> None:
        """Prevent the callback from running (no-op if it already ran)."""
        self.cancelled = True


class Scheduler:
    """Run callbacks at given times on a single background thread."""

    def __init__(self) -> None:
        """Create an idle scheduler; call start()."""
        self._heap: list[tuple[float, int, Timer]] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="linkly-scheduler", daemon=True)

    def start(self) -> None:
        """Start the scheduler thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread; pending callbacks are discarded."""
        with self._cond:
            self._stopped = True
            self._cond.notify()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def call_later(self, delay: float, fn: Callable[[], None]) -> Timer:
        """Run fn after delay seconds; return a cancellable handle."""
        timer = Timer(time.monotonic() + max(0.0, delay), fn)
        with self._cond:
            heapq.heappush(self._heap, (timer.due, next(self._seq), timer))
            if self._heap[0][2] is timer:
                self._cond.notify()
        return timer

    def _run(self) -> None:
        """Pop due callbacks and run them, sleeping until the next one is due."""
        while True:
            with self._cond:
                while not self._stopped:
                    if self._heap and self._heap[0][0] <= time.monotonic():
                        break
                    wait = self._heap[0][0] - time.monotonic() if self._heap else None
                    self._cond.wait(wait)
                if self._stopped:
                    return
                timer = heapq.heappop(self._heap)[2]
            if timer.cancelled:
                continue
            try:
                timer.fn()
            except Exception:
                log.exception("scheduled callback failed")
