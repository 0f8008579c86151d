"""Percentiles, CPU seconds and peak RSS of process trees, read from /proc."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0..100) by linear interpolation; None without values."""
    if not values:
        return None
    data = sorted(values)
    pos = (len(data) - 1) * q / 100.0
    low = int(pos)
    high = min(low + 1, len(data) - 1)
    return data[low] + (data[high] - data[low]) * (pos - low)


def peak_overlap(intervals: Iterable[tuple[float, float]]) -> int:
    """The largest number of [start, end] intervals open at one instant."""
    edges: list[tuple[float, int]] = []
    for start, end in intervals:
        edges += [(start, 1), (end, -1)]
    edges.sort(key=lambda e: (e[0], e[1]))
    peak = now = 0
    for _, step in edges:
        now += step
        peak = max(peak, now)
    return peak


def _stat(pid: int) -> tuple[int, float, int] | None:
    """(ppid, cpu seconds incl. reaped children, rss bytes) of one process."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            raw = fh.read().decode()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    # fields[0] is state (field 3); utime=14, stime=15, cutime=16, cstime=17, rss=24 (1-based)
    ppid = int(fields[1])
    ticks = sum(int(fields[i]) for i in (11, 12, 13, 14))
    return ppid, ticks / CLK_TCK, int(fields[21]) * PAGE


def _children_map() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = _stat(int(name))
            if st is not None:
                kids.setdefault(st[0], []).append(int(name))
    return kids


def tree(root: int, kids: dict[int, list[int]]) -> list[int]:
    """root and every live descendant."""
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo += kids.get(pid, [])
    return out


@dataclass
class Role:
    """One process we started (and its descendants), e.g. web, worker-1, scheduler."""

    name: str
    pid: int
    ours: bool  # counted in "CPU per payment" (the app's processes, not simulators or Redis)
    peak_rss: dict[str, int] = field(default_factory=dict)  # "main" / "child" -> bytes


class ProcSampler:
    """Samples CPU and RSS of every role's process tree on a background thread."""

    def __init__(self, roles: list[Role], interval: float = 0.5) -> None:
        self.roles = roles
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def cpu(self) -> dict[str, float]:
        """CPU seconds so far per role (live descendants plus reaped children)."""
        kids = _children_map()
        out: dict[str, float] = {}
        for role in self.roles:
            total = 0.0
            for pid in tree(role.pid, kids):
                st = _stat(pid)
                if st is not None:
                    total += st[1]
            out[role.name] = total
        return out

    def sample_rss(self) -> None:
        """Update each role's peak RSS: its main process and its largest descendant."""
        kids = _children_map()
        with self._lock:
            for role in self.roles:
                for pid in tree(role.pid, kids):
                    st = _stat(pid)
                    if st is None:
                        continue
                    key = "main" if pid == role.pid else "child"
                    role.peak_rss[key] = max(role.peak_rss.get(key, 0), st[2])

    def start(self) -> None:
        """Sample until stop()."""
        self._thread = threading.Thread(target=self._run, name="proc-sampler", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample_rss()

    def stop(self) -> None:
        """Stop sampling (one last sample first)."""
        self.sample_rss()
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)


def cpu_delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """Per-role CPU seconds spent between two cpu() readings."""
    return {k: after.get(k, 0.0) - before.get(k, 0.0) for k in after}


def load_average() -> str:
    """The machine's load averages, as `uptime` prints them."""
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f}, {five:.2f}, {fifteen:.2f}"


def wait_until(predicate, timeout: float, interval: float = 0.5) -> bool:
    """Poll predicate() until true or timeout; bounded in time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


def current_rss(pid: int) -> dict[str, int]:
    """RSS now of a process ("main") and of its largest descendant ("child"), in bytes."""
    kids = _children_map()
    found = {"main": 0, "child": 0}
    for p in tree(pid, kids):
        st = _stat(p)
        if st is not None:
            key = "main" if p == pid else "child"
            found[key] = max(found[key], st[2])
    return found
