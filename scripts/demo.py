"""Run the demo: Redis, the SQLite database, the Linkly simulator, the web process and a worker."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
STATE = ROOT / "instance" / "demo"
ROBOT_RUN = '{"id": %d, "code": "linkly_pos_payment", "properties": {"amount": "10.00"}}'
DEMO_ENV_KEYS = (
    "APP_ENV",
    "APP_BASE_URL",
    "DATABASE_URL",
    "REDIS_URL",
    "LINKLY_AUTH_URL",
    "LINKLY_API_URL",
    "BITRIX_OAUTH_URL",
    "BITRIX_CLIENT_ID",
    "BITRIX_CLIENT_SECRET",
    "BITRIX_ALLOW_HTTP",
)
DEMO_CLIENT_ID = "local.demo0000000000.00000001"
DEMO_CLIENT_SECRET = "demo-client-secret"  # noqa: S105 - the local simulator's, not a real one


def _wait_http(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=5)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise SystemExit(f"demo: {url} did not answer within {timeout:.0f}s")


class Supervisor:
    """Start child processes, stop them all together."""

    def __init__(self, env: dict[str, str], state: Path) -> None:
        self.env = env
        self.state = state
        self.children: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(self, name: str, argv: list[str]) -> None:
        """Start one child; its output goes to instance/demo/NAME.log."""
        log = open(self.state / f"{name}.log", "ab")  # noqa: SIM115 - lives as long as the child
        proc = subprocess.Popen(argv, cwd=ROOT, env=self.env, stdout=log, stderr=log)
        self.children.append((name, proc))

    def dead(self) -> list[str]:
        """Names of children that have exited."""
        return [name for name, proc in self.children if proc.poll() is not None]

    def stop(self) -> None:
        """Terminate every child, then kill what is left after 10 s."""
        for _, proc in reversed(self.children):
            if proc.poll() is None:
                proc.terminate()
        for _, proc in self.children:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def main(argv: list[str] | None = None) -> int:
    """Start everything, print where to look, and run until Ctrl-C (or probe and exit)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--web-port", type=int, default=int(os.environ.get("DEMO_WEB_PORT", 5000)))
    parser.add_argument(
        "--linkly-port", type=int, default=int(os.environ.get("DEMO_LINKLY_PORT", 8801))
    )
    parser.add_argument(
        "--bitrix-port", type=int, default=int(os.environ.get("DEMO_BITRIX_PORT", 8802))
    )
    parser.add_argument(
        "--redis-port", type=int, default=int(os.environ.get("DEMO_REDIS_PORT", 6390))
    )
    parser.add_argument("--state-dir", type=Path, default=STATE, help="database, Redis and logs")
    parser.add_argument("--check", action="store_true", help="start, probe every page, then stop")
    args = parser.parse_args(argv)

    state = args.state_dir.resolve()
    state.mkdir(parents=True, exist_ok=True)
    # The simulators keep nothing between runs, so neither does the demo's database.
    for old in state.glob("bizproc.sqlite3*"):
        old.unlink()
    py = sys.executable
    linkly = f"http://127.0.0.1:{args.linkly_port}"
    portal = f"http://127.0.0.1:{args.bitrix_port}"
    web = f"http://127.0.0.1:{args.web_port}"
    env = {
        **os.environ,
        "APP_ENV": "development",
        "APP_BASE_URL": f"http://127.0.0.1:{args.web_port}",
        "DATABASE_URL": f"sqlite:///{state / 'bizproc.sqlite3'}",
        "REDIS_URL": f"redis://127.0.0.1:{args.redis_port}/0",
        "LINKLY_AUTH_URL": linkly,
        "LINKLY_API_URL": linkly,
        "BITRIX_OAUTH_URL": f"{portal}/oauth-server",
        "BITRIX_CLIENT_ID": DEMO_CLIENT_ID,
        "BITRIX_CLIENT_SECRET": DEMO_CLIENT_SECRET,
        "BITRIX_ALLOW_HTTP": "1",
    }
    sup = Supervisor(env, state)
    redis_bin = shutil.which("redis-server") or "redis-server"
    sup.start(
        "redis",
        [
            redis_bin,
            "--bind",
            "127.0.0.1",
            "--port",
            str(args.redis_port),
            "--dir",
            str(state),
            "--appendonly",
            "yes",
            "--save",
            "",
        ],
    )
    try:
        subprocess.run(
            [py, "-m", "flask", "--app", "bizproc_app", "db", "upgrade"],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        sup.start(
            "linkly",
            [
                py,
                "-m",
                "simulators.linkly",
                "--host",
                "127.0.0.1",
                "--port",
                str(args.linkly_port),
                "--username",
                "demo",
                "--password",
                "demo",
                "--pair-code",
                "123456",
                "--cardholder-delay",
                "4",
                "--pair-code-ttl",
                "86400",
                "--allow-http",
            ],
        )
        sup.start(
            "bitrix24",
            [
                py,
                "-m",
                "simulators.bitrix24",
                "--host",
                "127.0.0.1",
                "--port",
                str(args.bitrix_port),
                "--app-url",
                web,
                "--client-id",
                DEMO_CLIENT_ID,
                "--client-secret",
                DEMO_CLIENT_SECRET,
                "--seed-deals",
                "3",
            ],
        )
        sup.start(
            "web",
            [
                py,
                "-m",
                "gunicorn",
                "--bind",
                f"127.0.0.1:{args.web_port}",
                "--workers",
                "2",
                "bizproc_app:create_app()",
            ],
        )
        sup.start("worker", [py, "-m", "workers"])
        sup.start("scheduler", [py, "-m", "workers.scheduler"])
        for url in (f"{web}/healthz", f"{linkly}/_sim/", f"{portal}/_sim/"):
            _wait_http(url)
        member_id, deal_id = _set_up_shop(py, env, portal)
        robot_run = ROBOT_RUN % deal_id
        pages = {
            "App": f"{web}/",
            "Health": f"{web}/healthz",
            "Virtual PIN pad": f"{linkly}/_sim/pinpad/1",
            "Linkly simulator API": f"{linkly}/_sim/",
            "Bitrix24 portal: install": f"{portal}/install/",
            "Bitrix24 portal: a deal": f"{portal}/crm/deal/details/{deal_id}/",
            "Bitrix24 simulator API": f"{portal}/_sim/",
        }
        print(f"\nThe demo is running (logs in {state}). Open:")
        for name, url in pages.items():
            print(f"  {name:<22} {url}")
        env_file = state / "env"
        env_file.write_text("".join(f"{k}={env[k]}\n" for k in DEMO_ENV_KEYS))
        print(f"The app is installed on the simulated portal {member_id}; PIN pad 1 is paired")
        print(
            f"as terminal 1 'Front desk', shared by all users. A robot payment on deal {deal_id}:"
        )
        print(f"  curl -s -X POST {portal}/_sim/robots/run -H 'Content-Type: application/json' \\")
        print(f"       -d '{robot_run}'")
        print(f"then watch the PIN pad and read {portal}/_sim/workflows. From the CLI:")
        print(f"  set -a; . {env_file}; set +a")
        print(f"  .venv/bin/flask --app bizproc_app pos pay --portal {member_id} \\")
        print("       --terminal 1 --amount 10.00")
        if args.check:
            time.sleep(1)  # let a process that fails at start-up exit before the probe
            return _probe(pages, sup.dead()) or _pay_once(portal, robot_run)
        print("Press Ctrl-C to stop.")
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        while not sup.dead():
            time.sleep(1)
        print(f"demo: {', '.join(sup.dead())} stopped; see {state}/*.log", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        sup.stop()


def _set_up_shop(py: str, env: dict[str, str], portal: str) -> tuple[str, int]:
    """Install the app, pair PIN pad 1, add an AUD deal; return the member id and deal id."""
    sent = requests.post(f"{portal}/_sim/install", json={"mode": "event"}, timeout=30).json()
    if sent.get("status") != 200:
        raise SystemExit(f"demo: the install failed: {sent.get('response')}")
    member_id = requests.get(f"{portal}/_sim/state", timeout=10).json()["member_id"]
    argv = [
        py,
        "-m",
        "flask",
        "--app",
        "bizproc_app",
        "pos",
        "terminal-pair",
        "--portal",
        member_id,
        "--name",
        "Front desk",
        "--username",
        "demo",
        "--password",
        "-",
        "--pair-code",
        "123456",
        "--shared",
    ]
    subprocess.run(
        argv, cwd=ROOT, env=env, input="demo\n", text=True, check=True, stdout=subprocess.DEVNULL
    )
    fields = {"title": "Demo: coffee and cake", "opportunity": 10, "currencyId": "AUD"}
    deal = requests.post(f"{portal}/_sim/deals", json={"fields": fields}, timeout=10).json()
    return member_id, int(deal.get("id") or deal.get("ID"))


def _pay_once(portal: str, robot_run: str) -> int:
    """Run the robot on the demo deal and wait for the workflow's answer; 0 when approved."""
    wf = requests.post(f"{portal}/_sim/robots/run", json=json.loads(robot_run), timeout=30).json()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        workflow = requests.get(f"{portal}/_sim/workflows/{wf['id']}", timeout=10).json()
        if workflow["status"] != "running":
            values = {k: v for step in workflow["returns"].values() for k, v in step.items()}
            print(f"check robot payment: {values.get('status')}")
            return 0 if values.get("status") == "approved" else 1
        time.sleep(0.5)
    print("check robot payment: no answer within 60 s")
    return 1


def _probe(pages: dict[str, str], dead: list[str]) -> int:
    """Fetch every page once; non-zero when any fails or a process has exited."""
    failed = len(dead)
    for name in dead:
        print(f"check {name}: exited")
    for name, url in pages.items():
        status = requests.get(url, timeout=10).status_code
        print(f"check {name}: {status}")
        failed += status != 200
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
