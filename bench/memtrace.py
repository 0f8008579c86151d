"""Where a gunicorn worker's memory goes during a soak: RSS, malloc, SQLite and Python objects.

As a gunicorn config (the bench's --trace-memory DIR): gunicorn -c python:bench.memtrace ...
writes $BENCH_MEMTRACE_DIR/web-<pid>-<minute>.json every minute: RSS, glibc malloc's bytes in
use and free inside its arenas (mallinfo2), and SQLite's own heap (sqlite3_memory_used, its page
caches). With BENCH_TRACEMALLOC=1 it also runs tracemalloc and dumps a snapshot beside each
(tracemalloc's own tables then grow RSS, so compare its traced totals, not RSS). With
BENCH_MALLOC_TRIM=1 it then calls malloc_trim(0) and records the RSS after it: what remains
once glibc hands its free pages back.

python -m bench.memtrace DIR [--from MINUTE] [--top 15]: the figures per minute per worker, and
the allocation sites that grew most between two snapshots.
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import json
import os
import threading
import time
import tracemalloc
from pathlib import Path

INTERVAL = 60.0
FRAMES = 8


def post_fork(server: object, worker: object) -> None:
    """gunicorn hook: trace this worker and snapshot it every minute."""
    out = Path(os.environ["BENCH_MEMTRACE_DIR"])
    out.mkdir(parents=True, exist_ok=True)
    if os.environ.get("BENCH_TRACEMALLOC") == "1":
        tracemalloc.start(FRAMES)
    threading.Thread(target=_record, args=(out, os.getpid()), daemon=True).start()


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in ("arena", "ordblks", "smblks", "hblks",
                "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]  # fmt: skip


def _record(out: Path, pid: int) -> None:
    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = _MallInfo2
    sqlite = ctypes.CDLL(ctypes.util.find_library("sqlite3") or "libsqlite3.so.0")
    sqlite.sqlite3_memory_used.restype = ctypes.c_int64
    minute = 0
    while True:
        time.sleep(INTERVAL)
        minute += 1
        stem = out / f"web-{pid}-{minute:03d}"
        if tracemalloc.is_tracing():
            snap = tracemalloc.take_snapshot().filter_traces(
                (tracemalloc.Filter(False, tracemalloc.__file__),)
            )
            snap.dump(f"{stem}.snap")
        m = libc.mallinfo2()
        figures = {"rss": _rss(pid), "malloc_in_use": m.uordblks + m.hblkhd,
                   "malloc_free": m.fordblks, "sqlite": sqlite.sqlite3_memory_used()}  # fmt: skip
        if os.environ.get("BENCH_MALLOC_TRIM") == "1":
            libc.malloc_trim(0)
            figures["rss_trimmed"] = _rss(pid)
        Path(f"{stem}.json").write_text(json.dumps(figures))


def _rss(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[21]) * os.sysconf("SC_PAGE_SIZE")


def summarise(directory: Path, start: int, top: int) -> str:
    """Figures per minute per worker (MiB); top growing sites from `start` to the end."""
    lines = []
    for pid in sorted({p.name.split("-")[1] for p in directory.glob("web-*.json")}):
        records = sorted(directory.glob(f"web-{pid}-*.json"))
        lines.append(
            f"worker {pid}: minute, RSS, malloc in use, malloc free, SQLite, Python, RSS trimmed"
        )
        for path in records:
            f = {k: v / 2**20 for k, v in json.loads(path.read_text()).items()}
            snap = path.with_suffix(".snap")
            traced = (
                sum(s.size for s in tracemalloc.Snapshot.load(str(snap)).statistics("filename"))
                / 2**20
                if snap.exists()
                else float("nan")
            )
            lines.append(f"  {path.stem.rsplit('-', 1)[1]}  {f['rss']:7.1f}  "
                         f"{f['malloc_in_use']:7.1f}  {f['malloc_free']:7.1f}  "
                         f"{f['sqlite']:7.1f}  {traced:7.2f}  "
                         f"{f.get('rss_trimmed', float('nan')):7.1f}")  # fmt: skip
        snaps = [
            p for p in sorted(directory.glob(f"web-{pid}-*.snap"))
            if int(p.stem.rsplit("-", 1)[1]) >= start
        ]  # fmt: skip
        if len(snaps) < 2:
            continue
        old = tracemalloc.Snapshot.load(str(snaps[0]))
        new = tracemalloc.Snapshot.load(str(snaps[-1]))
        lines.append(f"  growth {snaps[0].stem} -> {snaps[-1].stem}, by allocation site:")
        for stat in new.compare_to(old, "traceback")[:top]:
            frame = stat.traceback[-1]
            lines.append(f"    {stat.size_diff / 1024:+9.1f} KiB {stat.count_diff:+7d} blocks  "
                         f"{frame.filename}:{frame.lineno}")  # fmt: skip
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Print the summary of a --trace-memory directory."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("directory", type=Path)
    ap.add_argument("--from", dest="start", type=int, default=5, help="first minute compared")
    ap.add_argument("--top", type=int, default=15)
    a = ap.parse_args(argv)
    print(summarise(a.directory, a.start, a.top))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
