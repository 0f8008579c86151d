"""The README's first command: the demo starts every process and serves its pages."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.helpers.loopback import free_port

ROOT = Path(__file__).resolve().parents[2]


def test_demo_starts_everything_and_serves_its_pages(tmp_path: Path) -> None:
    ports = [str(free_port()) for _ in range(4)]
    argv = [sys.executable, "-m", "scripts.demo", "--check", "--state-dir", str(tmp_path)]
    argv += ["--web-port", ports[0], "--linkly-port", ports[1], "--redis-port", ports[2]]
    argv += ["--bitrix-port", ports[3]]
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=150)
    assert done.returncode == 0, done.stdout + done.stderr
    for page in ("The deal (as Anna, admin)", "Settings (admins)", "Virtual PIN pad", "App health"):
        assert f"check {page}: 200" in done.stdout
    assert "exited" not in done.stdout
    # The demo installs the app, pairs PIN pad 1, places the robots, and moving the deal to the
    # robot's stage pays it and moves it on.
    assert "check robot payment: approved, deal moved to WON" in done.stdout
    # A robot pays an invoice of two product rows: the deal page shows its paid payment, whose
    # sum is the charge (issue 14: a payment's sum comes only from the rows it carries).
    assert "check invoice payment: the deal page shows a paid payment of 16.00" in done.stdout
    assert (tmp_path / "bizproc.sqlite3").exists()
