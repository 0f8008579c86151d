"""The benchmark's --quick mode runs end to end (a smoke check: no timing is asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bench.report import BEGIN, END, ROWS

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(300)
def test_quick_benchmark_runs_and_writes_every_row(tmp_path: Path) -> None:
    out = tmp_path / "performance.md"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--no-baseline", "--no-ceiling",
         "--payments", "12", "--pinpads", "6", "--delay", "0.5", "1.0", "--output", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=280,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    text = out.read_text()
    assert BEGIN in text and END in text and "QUICK MODE" in text
    for _, label, *_ in ROWS:
        assert label in text, label
