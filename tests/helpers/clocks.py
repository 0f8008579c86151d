"""Clocks for code that takes a `clock` callable."""

from __future__ import annotations


class FakeClock:
    """A clock the test sets and moves by hand: call it for the time, `advance` to move it."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock forward."""
        self.now += seconds
