"""Fixtures: the Linkly simulator, real worker and scheduler processes, and an installed shop.

Registered in tests/conftest.py's `pytest_plugins`, so the payment integration tests and the
browser tests share them. `app_overrides` stays per package (see `linkly_overrides`).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bizproc_app.extensions import db, secrets
from bizproc_app.models import Payment, Portal
from bizproc_app.terminals.management import pair_terminal
from bizproc_app.wiring.services import linkly
from simulators.linkly import LinklyControl, LinklySimulator, SimulatorConfig

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def pinpads() -> Iterator[LinklySimulator]:
    """The Linkly simulator: PIN pad 1 (pair code 111111), a quick virtual cardholder."""
    sim = LinklySimulator(
        SimulatorConfig(
            username="shop",
            password="shop-pass",
            cardholder_delay=0.3,
            allow_http=True,
            operation_delay=0.02,
            processing_delay=0.05,
            input_timeout=5.0,
            notify_timeout=3.0,
        ),
        pair_code="111111",
    )
    sim.start(host="127.0.0.1", port=0)
    yield sim
    sim.stop()


def linkly_overrides(pinpads: LinklySimulator) -> dict[str, Any]:
    """Point the app at the Linkly simulator, with quick pipeline clocks."""
    return {
        "LINKLY_AUTH_URL": pinpads.base_url,
        "LINKLY_API_URL": pinpads.base_url,
        "PAYMENT_EVENT_TIMEOUT_SECONDS": 1.0,
        "PAYMENT_RECOVERY_INTERVAL_SECONDS": 0.5,
        "PAYMENT_NOT_FOUND_GRACE_SECONDS": 2.0,
        "PAYMENT_DEADLINE_SECONDS": 20.0,
        "TERMINAL_BUSY_WAIT_SECONDS": 30.0,
    }


class Processes:
    """Worker and scheduler processes running the app's real entry points."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.logs: list[Any] = []

    def start(self, name: str, *argv: str) -> subprocess.Popen[bytes]:
        """Start `python -m ARGV` with the app's configuration."""
        log = open(f"/tmp/bizproc-test-{name}-{os.getpid()}.log", "wb")  # noqa: SIM115
        proc = subprocess.Popen(
            [sys.executable, "-m", *argv], cwd=ROOT, env=self.env, stdout=log, stderr=log
        )
        self.procs[name] = proc
        self.logs.append(log)
        return proc

    def stop(self) -> None:
        """Terminate everything still running."""
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for log in self.logs:
            log.close()


@pytest.fixture
def processes(served_app) -> Iterator[Processes]:
    """Two RQ workers and the scheduler, as separate processes."""
    env = {**os.environ, **served_app.config["APP_CONFIG"].to_env(), "APP_ENV": "testing"}
    procs = Processes(env)
    procs.start("worker-1", "workers")
    procs.start("worker-2", "workers")
    procs.start("scheduler", "workers.scheduler", "--interval", "0.3")
    yield procs
    procs.stop()


@pytest.fixture
def shop(served_app, ctl, pinpads, b24) -> dict[str, Any]:
    """An installed portal with terminal "Front" (PIN pad 1) assigned to user 1, and a deal."""
    assert ctl("POST", "install", {"mode": "event"})["status"] == 200
    with served_app.app_context():
        portal = db.session.scalar(select(Portal))
        terminal = pair_terminal(
            db.session,
            linkly(),
            secrets.box,
            portal=portal,
            name="Front",
            username="shop",
            password="shop-pass",
            pair_code="111111",
            users=(1,),
            currency="AUD",
        )
        ids = {"portal_id": portal.id, "terminal_id": terminal.id, "member_id": portal.member_id}
    deal = ctl(
        "POST", "deals", {"fields": {"title": "Lunch", "opportunity": 25, "currencyId": "AUD"}}
    )
    ids["deal_id"] = int(deal.get("id") or deal.get("ID"))
    ids["control"] = b24.urls["control"]
    return ids


def payment_of(app, **filters: Any) -> Payment | None:
    """The newest payment matching the filters, detached from the session."""
    with app.app_context():
        stmt = select(Payment).filter_by(**filters).order_by(Payment.created_at.desc())
        payment = db.session.scalars(stmt).first()
        if payment is not None:
            db.session.expunge(payment)
        return payment


def ledger(pinpads: LinklySimulator) -> list[dict[str, Any]]:
    """What the simulator actually charged and refunded."""
    with LinklyControl(pinpads.base_url) as control:
        return control.ledger()
