"""CPU per request of the hottest endpoints through gunicorn: python -m bench.endpoints.

Linkly display events (several per payment) and robot handler calls (one per payment), posted
by client threads to gunicorn (2 workers, gthread x8) on a temp SQLite database and its own
Redis; CPU is utime+stime of gunicorn and its workers from /proc. No simulator is involved.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import requests

from bench.metrics import wait_until
from bench.stack import free_port

ROOT = Path(__file__).resolve().parent.parent
DISPLAY = {
    "ResponseType": "display",
    "CancelKeyFlag": True,
    "AcceptYesKeyFlag": False,
    "DeclineNoKeyFlag": False,
    "AuthoriseKeyFlag": False,
    "OKKeyFlag": False,
    "InputType": "0",
    "GraphicCode": "0",
}


def _seed(env: dict[str, str], payments: int) -> list[tuple[str, str]]:
    """One installed portal, one terminal, `payments` payments in progress."""
    os.environ.update(env)
    from bizproc_app import create_app
    from bizproc_app.extensions import db, secrets
    from bizproc_app.models import Payment, Portal, Terminal
    from bizproc_app.payments.pipeline import notify_hash
    from bizproc_app.storage.migrate import upgrade

    app = create_app()
    with app.app_context():
        upgrade(db.engine)
        portal = Portal(
            member_id="m1",
            domain="shop.bitrix24.com",
            client_endpoint="https://shop.bitrix24.com/rest/",
            installed=True,
            application_token_enc=secrets.box.encrypt("app-token"),
        )
        db.session.add(portal)
        db.session.flush()
        terminal = Terminal(portal_id=portal.id, name="T1")
        db.session.add(terminal)
        db.session.flush()
        rows = [
            Payment(portal_id=portal.id, terminal_id=terminal.id, kind="purchase",
                    amount_cents=1000, currency="AUD", state="in_progress", source="robot",
                    session_id=uuid.uuid4().hex, txn_ref=f"T{i}", notify_hash=notify_hash("s"),
                    context={})
            for i in range(payments)
        ]  # fmt: skip
        db.session.add_all(rows)
        db.session.commit()
        return [(p.id, p.session_id) for p in rows]


def _display(url: str, payment: tuple[str, str], k: int) -> dict[str, Any]:
    pid, sid = payment
    body = {"SessionId": sid, "ResponseType": "display",
            "Response": {**DISPLAY, "DisplayText": [f"PROMPT {k % 4}", ""]}}  # fmt: skip
    return {"url": f"{url}/linkly/notify/{pid}/{sid}/display", "json": body,
            "headers": {"Authorization": "Bearer s"}}  # fmt: skip


def _handler(url: str, payment: tuple[str, str], k: int) -> dict[str, Any]:
    form = {
        "workflow_id": uuid.uuid4().hex[:20], "code": "linkly_pos_payment",
        "document_id[0]": "crm", "document_id[1]": "CCrmDocumentDeal",
        "document_id[2]": "DEAL_5", "document_type[0]": "crm",
        "event_token": uuid.uuid4().hex, "properties[amount]": "10.00",
        "properties[invoice_id]": str(k + 1), "properties[terminal]": "T1",
        "auth[member_id]": "m1", "auth[application_token]": "app-token",
        "auth[domain]": "shop.bitrix24.com",
    }  # fmt: skip
    return {"url": f"{url}/bitrix/handler", "data": form}


def _cpu(pid: int) -> float:
    total = 0
    children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    for p in [pid, *map(int, children.split())]:
        fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def measure(
    kind: str, url: str, pid: int, payments: list[tuple[str, str]], n: int, threads: int
) -> dict[str, float]:
    """Post n requests of one kind from `threads` clients; CPU ms per request and requests/s."""
    make = _display if kind == "display" else _handler
    failures: list[str] = []

    def client(offset: int) -> None:
        with requests.Session() as http:
            for k in range(offset, n, threads):
                r = http.post(**make(url, payments[k % len(payments)], k), timeout=30)
                if r.status_code != 200:
                    failures.append(f"{r.status_code} {r.text[:100]}")

    before, started = _cpu(pid), time.monotonic()
    workers = [threading.Thread(target=client, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.monotonic() - started
    if failures:
        raise SystemExit(f"{kind}: {len(failures)} failed, e.g. {failures[0]}")
    return {"cpu_ms": (_cpu(pid) - before) * 1000 / n, "per_second": n / elapsed}


def main(argv: list[str] | None = None) -> int:
    """Start Redis and gunicorn, measure each endpoint, print the figures."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("-n", type=int, default=2000, help="requests per endpoint (default 2000)")
    ap.add_argument("--threads", type=int, default=8, help="client threads (default 8)")
    args = ap.parse_args(argv)
    tmp = tempfile.mkdtemp(prefix="bench-endpoints-")
    redis_port, web_port = free_port(), free_port()
    env = dict(
        os.environ,
        APP_ENV="development",
        DATABASE_URL=f"sqlite:///{tmp}/app.db",
        REDIS_URL=f"redis://127.0.0.1:{redis_port}/0",
        APP_BASE_URL="https://app.example",
    )
    procs = [
        subprocess.Popen(
            [shutil.which("redis-server") or "redis-server", "--bind", "127.0.0.1", "--port",
             str(redis_port), "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
        )
    ]  # fmt: skip
    try:
        payments = _seed(env, 200)
        web = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{web_port}", "--workers",
             "2", "--worker-class", "gthread", "--threads", "8", "bizproc_app:create_app()"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
        procs.append(web)
        url = f"http://127.0.0.1:{web_port}"
        if not wait_until(lambda: _answers(url), 30, 0.2):
            raise SystemExit("gunicorn did not start")
        for kind in ("display", "handler"):
            measure(kind, url, web.pid, payments, 100, 2)  # warm up every worker
            found = measure(kind, url, web.pid, payments, args.n, args.threads)
            cpu, rate = found["cpu_ms"], found["per_second"]
            print(f"{kind}: {cpu:.2f} ms CPU per request, {rate:.0f} requests/s", end=" ")
            print(f"({args.n} requests, {args.threads} clients)")
    finally:
        for proc in reversed(procs):
            proc.terminate()
            proc.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


def _answers(url: str) -> bool:
    try:
        return requests.get(f"{url}/healthz", timeout=1).status_code == 200
    except requests.RequestException:
        return False


if __name__ == "__main__":
    raise SystemExit(main())
