"""The standalone entry point: --help documents the flags; the server answers /_sim/."""

from __future__ import annotations

import subprocess
import sys

import requests

from tests.helpers.loopback import free_port
from tests.helpers.waiting import wait_for_port


def test_help_lists_flags() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "simulators.bitrix24", "--help"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    for flag in (
        "--app-url",
        "--client-id",
        "--client-secret",
        "--no-rate-limit",
        "--access-ttl",
        "--stale-token",
        "--fail-next",
        "--down-seconds",
    ):
        assert flag in out


def test_standalone_server() -> None:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "simulators.bitrix24",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--app-url",
            "http://127.0.0.1:9",
            "--client-id",
            "cid",
            "--client-secret",
            "sec",
            "--no-rate-limit",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        base = f"http://127.0.0.1:{port}"
        routes = requests.get(base + "/_sim/", timeout=5).json()["routes"]
        assert any(r["path"] == "/_sim/install" for r in routes)
        assert all(r["description"] for r in routes)
        cfg = requests.get(base + "/_sim/config", timeout=5).json()["config"]
        assert cfg["client_id"] == "cid" and cfg["rate_limit"] is False
    finally:
        proc.terminate()
        proc.wait(timeout=10)
