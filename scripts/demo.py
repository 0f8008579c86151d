"""Run the demo: Redis, the SQLite database, the Linkly simulator, the web process and a worker."""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

import requests

from bench.loopback import app_env, local_config, migrate, start_logged, wait_http
from bizproc_app.config import Config
from simulators.bitrix24.control_client import Bitrix24Control

ROOT = Path(__file__).resolve().parent.parent
STATE = ROOT / "instance" / "demo"
DEMO_GUIDE = """
The app is installed on the simulated portal; PIN pad 1 is paired as terminal 1, 'Front desk',
assigned to Anna (1) and Bob (2). Deal {deal} has two invoices with product rows. Try:
  - in the deal's "POS payments" tab, Send Payment on an invoice and watch the PIN pad; the
    deal page then lists the invoice's payment, paid, carrying its product rows, of the charge;
  - a decline: Add Invoice with an amount ending in .51; a cancel: press Cancel while it asks
    for the card (the virtual cardholder answers after 8 seconds);
  - Refund part of a paid invoice (Anna is an admin; Bob needs refund rights from Settings);
  - the workflow: move the deal to "In progress" (EXECUTING): the robot charges the deal and,
    once approved, moves it to WON:
      curl -s -X POST {portal}/_sim/deals/{deal}/move -H 'Content-Type: application/json' \\
           -d '{{"stage_id": "EXECUTING"}}'
  - the support CLI:  set -a; . {env}; set +a
      .venv/bin/flask --app bizproc_app pos pay --portal {member} --terminal 1 --amount 10.00
Press Ctrl-C to stop."""
# The demo deal's smart invoices and their product rows (whole dollars: the PIN pad answers a
# sale with its cents as the response code). A paid payment carries the rows.
DEMO_INVOICES = (
    ("Consultation", [{"productName": "Consultation", "price": 120, "quantity": 1}]),
    (
        "Coffee and cake",
        [
            {"productName": "Flat white", "price": 4.5, "quantity": 2},
            {"productName": "Carrot cake", "price": 7, "quantity": 1},
        ],
    ),
)
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


class Supervisor:
    """Start child processes, stop them all together."""

    def __init__(self, env: dict[str, str], state: Path) -> None:
        self.env = env
        self.state = state
        self.children: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(self, name: str, argv: list[str]) -> None:
        """Start one child; its output goes to instance/demo/NAME.log."""
        proc = start_logged(argv, self.state / f"{name}.log", self.env, new_session=False)
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


class Urls(NamedTuple):
    """Where the demo's HTTP services answer."""

    web: str
    linkly: str
    portal: str


def main(argv: list[str] | None = None) -> int:
    """Start everything, print where to look, and run until Ctrl-C (or probe and exit)."""
    args = _parse(argv)
    state = _fresh_state(args.state_dir)
    ports = (args.web_port, args.linkly_port, args.bitrix_port)
    urls = Urls(*(f"http://127.0.0.1:{port}" for port in ports))
    env = _environment(urls, state, args.redis_port)
    sup = Supervisor(env, state)
    sup.start("redis", _redis_argv(args.redis_port, state))
    try:
        _start(sup, args, urls)
        with Bitrix24Control(urls.portal, timeout=30) as sim:
            member_id, deal_id = _set_up_shop(sys.executable, env, sim)
        pages = _tour(urls, state, env, member_id, deal_id)
        if args.check:
            return _check(sup, pages, urls.portal, deal_id)
        return _run_until_stopped(sup, state)
    except KeyboardInterrupt:
        return 0
    finally:
        sup.stop()


def _parse(argv: list[str] | None) -> argparse.Namespace:
    """The command line; each port's default comes from its DEMO_*_PORT variable."""
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
    return parser.parse_args(argv)


def _fresh_state(state_dir: Path) -> Path:
    """The state directory, without the last run's database."""
    state = state_dir.resolve()
    state.mkdir(parents=True, exist_ok=True)
    # The simulators keep nothing between runs, so neither does the demo's database.
    for old in state.glob("bizproc.sqlite3*"):
        old.unlink()
    return state


def _environment(urls: Urls, state: Path, redis_port: int) -> dict[str, str]:
    """The app's environment, built as the benchmark's stack builds it (Config.to_env).

    The config starts from this shell's (so a value the demo does not set still reaches the
    children as before) and points at the demo's database, Redis and simulators.
    """
    config = local_config(
        Config.from_env({**os.environ, "APP_ENV": "development"}),
        web=urls.web,
        database=f"sqlite:///{state / 'bizproc.sqlite3'}",
        redis=f"redis://127.0.0.1:{redis_port}/0",
        linkly=urls.linkly,
        portal=urls.portal,
        client_id=DEMO_CLIENT_ID,
        client_secret=DEMO_CLIENT_SECRET,
    )
    return app_env(config)


def _redis_argv(port: int, state: Path) -> list[str]:
    """Redis on loopback, its append-only file in the state directory."""
    redis_bin = shutil.which("redis-server") or "redis-server"
    return [redis_bin, "--bind", "127.0.0.1", "--port", str(port), "--dir", str(state),
            "--appendonly", "yes", "--save", ""]  # fmt: skip


def _start(sup: Supervisor, args: argparse.Namespace, urls: Urls) -> None:
    """Migrate the database, start the simulators, web, worker and scheduler; wait for them."""
    py = sys.executable
    migrate(sup.env)
    sup.start(
        "linkly",
        [py, "-m", "simulators.linkly", "--host", "127.0.0.1", "--port", str(args.linkly_port),
         "--username", "demo", "--password", "demo", "--pair-code", "123456",
         "--cardholder-delay", "8", "--pair-code-ttl", "86400", "--allow-http"],
    )  # fmt: skip
    sup.start(
        "bitrix24",
        [py, "-m", "simulators.bitrix24", "--host", "127.0.0.1", "--port", str(args.bitrix_port),
         "--app-url", urls.web, "--client-id", DEMO_CLIENT_ID,
         "--client-secret", DEMO_CLIENT_SECRET, "--seed-deals", "3"],
    )  # fmt: skip
    sup.start(
        "web",
        [py, "-m", "gunicorn", "--bind", f"127.0.0.1:{args.web_port}", "--workers", "2",
         "--worker-class", "gthread", "--threads", "8", "bizproc_app:create_app()"],
    )  # fmt: skip
    sup.start("worker", [py, "-m", "workers"])
    sup.start("scheduler", [py, "-m", "workers.scheduler"])
    late = wait_http(
        [f"{urls.web}/healthz", f"{urls.linkly}/_sim/", f"{urls.portal}/_sim/"], request_timeout=5
    )
    if late:
        raise SystemExit(f"demo: {late} did not answer within 30s")


def _tour(
    urls: Urls, state: Path, env: dict[str, str], member_id: str, deal_id: int
) -> dict[str, str]:
    """Write the support CLI's env file and print the pages and the guide; return the pages."""
    portal, linkly = urls.portal, urls.linkly
    pages = {
        "The deal (as Anna, admin)": f"{portal}/crm/deal/details/{deal_id}/?user=1",
        "The deal (as Bob, cashier)": f"{portal}/crm/deal/details/{deal_id}/?user=2",
        "Settings (admins)": f"{portal}/app/?user=1",
        "Virtual PIN pad": f"{linkly}/_sim/pinpad/1",
        "App health": f"{urls.web}/healthz",
        "Linkly simulator API": f"{linkly}/_sim/",
        "Bitrix24 simulator API": f"{portal}/_sim/",
    }
    env_file = state / "env"
    env_file.write_text("".join(f"{k}={env[k]}\n" for k in DEMO_ENV_KEYS))
    print(f"\nThe demo is running (logs in {state}). Open:")
    for name, url in pages.items():
        print(f"  {name:<28} {url}")
    print(DEMO_GUIDE.format(deal=deal_id, portal=portal, env=env_file, member=member_id))
    return pages


def _check(sup: Supervisor, pages: dict[str, str], portal: str, deal_id: int) -> int:
    """--check: every page answers, no process exited, a robot pays the deal and an invoice."""
    time.sleep(1)  # let a process that fails at start-up exit before the probe
    with Bitrix24Control(portal, timeout=30) as sim:
        return _probe(pages, sup.dead()) or _pay_once(sim, deal_id) or _pay_invoice(sim, deal_id)


def _run_until_stopped(sup: Supervisor, state: Path) -> int:
    """Until SIGTERM (0, as Ctrl-C) or a process exits (1, naming it)."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while not sup.dead():
        time.sleep(1)
    print(f"demo: {', '.join(sup.dead())} stopped; see {state}/*.log", file=sys.stderr)
    return 1


def _set_up_shop(py: str, env: dict[str, str], sim: Bitrix24Control) -> tuple[str, int]:
    """Install the app, pair PIN pad 1, add an AUD deal; return the member id and deal id."""
    sent = sim.install(mode="event")
    if sent.get("status") != 200:
        raise SystemExit(f"demo: the install failed: {sent.get('response')}")
    member_id = sim.state()["member_id"]
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
        "--user",
        "1",
        "--user",
        "2",
    ]
    subprocess.run(
        argv, cwd=ROOT, env=env, input="demo\n", text=True, check=True, stdout=subprocess.DEVNULL
    )
    fields = {
        "title": "Demo: coffee and cake",
        "opportunity": 10,
        "currencyId": "AUD",
        "assignedById": 1,
    }
    deal = sim.add_deal(fields)
    deal_id = int(deal.get("id") or deal.get("ID"))
    for title, rows in DEMO_INVOICES:
        amount = sum(r["price"] * r["quantity"] for r in rows)
        invoice = {"title": title, "opportunity": amount, "currencyId": "AUD"}
        sim.add_invoice(invoice, rows, deal_id=deal_id)
    # The workflow: on "In progress" (EXECUTING) charge the deal, and move it to WON if approved.
    sim.place_robot("EXECUTING", "linkly_pos_payment", properties={})
    sim.place_robot(
        "EXECUTING", "", builtin="change_stage", target_stage="WON", condition={"approved": "Y"}
    )
    return member_id, deal_id


def _pay_once(sim: Bitrix24Control, deal_id: int) -> int:
    """Move the demo deal to the robot's stage; 0 once the workflow paid and moved it to WON."""
    sim.move_deal(deal_id, "EXECUTING")
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        crm = sim.crm()
        deal = next(d for d in crm["deals"] if int(d.get("id") or d.get("ID")) == deal_id)
        stage = deal.get("stageId") or deal.get("STAGE_ID")
        if stage == "WON":
            print("check robot payment: approved, deal moved to WON")
            return 0
        time.sleep(0.5)
    print(f"check robot payment: the deal is still at {stage} after 90 s")
    return 1


def _pay_invoice(sim: Bitrix24Control, deal_id: int) -> int:
    """Pay the second invoice by robot; 0 once the deal page shows it paid by its full sum."""
    crm = sim.crm()
    invoice = next(i for i in crm["invoices"] if i["title"] == DEMO_INVOICES[1][0])
    sim.run_robot(deal_id, "linkly_pos_payment", {"invoice_id": invoice["id"]})
    charge = f"{invoice['opportunity']:.2f}"
    paid = f'data-sum="{charge}" data-paid="Y"'
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        page = sim.http.get(f"{sim.base_url}/crm/deal/details/{deal_id}/", timeout=10).text
        if paid in page:
            print(
                f"check invoice payment: the deal page shows a paid payment of {charge}, the charge"
            )
            return 0
        time.sleep(0.5)
    print(f"check invoice payment: no paid payment of {charge} on the deal page after 90 s")
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
