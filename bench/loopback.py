"""The app's processes on loopback: what the demo (scripts/demo.py) and the benchmark's stack share.

Both build the app's environment from one Config (to_env), start each process with its output
in a log file, migrate the database with `flask db upgrade`, and wait for their HTTP servers.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import requests

from bizproc_app.config import Config

ROOT = Path(__file__).resolve().parent.parent


def local_config(
    base: Config,
    *,
    web: str,
    database: str,
    redis: str,
    linkly: str,
    portal: str,
    client_id: str,
    client_secret: str,
) -> Config:
    """`base` pointed at the local stack: its URLs, the simulator's client, plain HTTP allowed."""
    return base.replace(
        APP_ENV="development",
        APP_BASE_URL=web,
        DATABASE_URL=database,
        REDIS_URL=redis,
        LINKLY_AUTH_URL=linkly,
        LINKLY_API_URL=linkly,
        BITRIX_OAUTH_URL=f"{portal}/oauth-server",
        BITRIX_CLIENT_ID=client_id,
        BITRIX_CLIENT_SECRET=client_secret,
        BITRIX_ALLOW_HTTP=True,
    )


def app_env(config: Config, **extra: str) -> dict[str, str]:
    """This process's environment with every value of `config` (and `extra`) for the children."""
    return {**os.environ, **config.to_env(), **extra}


def start_logged(
    argv: list[str], log_path: Path, env: dict[str, str], *, new_session: bool
) -> subprocess.Popen[bytes]:
    """Start one process in the project's root; stdout and stderr appended to `log_path`."""
    log = open(log_path, "ab")  # noqa: SIM115 - lives as long as the child
    return subprocess.Popen(
        argv,
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=new_session,
    )


def migrate(env: dict[str, str], timeout: float | None = None) -> None:
    """Bring the database of `env` to the newest schema (flask db upgrade)."""
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "bizproc_app", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        timeout=timeout,
    )


def wait_http(urls: list[str], timeout: float = 30.0, request_timeout: float = 2.0) -> str | None:
    """Wait for each URL in turn to answer (any status), each within `timeout` s.

    Returns the first URL that did not answer in time, or None once all have.
    """
    return next((url for url in urls if not _answers(url, timeout, request_timeout)), None)


def _answers(url: str, timeout: float, request_timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=request_timeout)
            return True
        except requests.RequestException:
            time.sleep(0.2)
    return False
