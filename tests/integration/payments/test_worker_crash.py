"""A worker killed with SIGKILL mid-payment: a new worker finishes it, charged once."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import redis
import requests

from tests.helpers.waiting import wait_for
from tests.integration.payments.conftest import payment_of
from tests.integration.payments.flows import (
    charges,
    events_logged,
    finished,
    linkly,
    one_comment_each,
    rest_count,
    run,
    settled,
    transaction_posts,
)


class HeldAuth:
    """Linkly's auth host behind a gate: while held, requests wait (a worker hangs in them)."""

    def __init__(self, target: str) -> None:
        self.gate = threading.Event()
        self.gate.set()
        self.waiting = threading.Event()
        gate, waiting = self.gate, self.waiting

        class Forward(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if not gate.is_set():
                    waiting.set()
                    gate.wait(30)
                    return  # the caller is dead by now: answer nothing
                resp = requests.post(
                    target + self.path,
                    data=body,
                    headers={"Content-Type": "application/json"},
                    timeout=10,
                )
                self.send_response(resp.status_code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(resp.content)))
                self.end_headers()
                self.wfile.write(resp.content)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Forward)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        """Let everyone through and shut down."""
        self.gate.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def held_auth(pinpads) -> Iterator[HeldAuth]:
    """Linkly's auth host, holdable."""
    gate = HeldAuth(pinpads.base_url)
    yield gate
    gate.stop()


@pytest.fixture
def app_overrides(app_overrides, held_auth) -> dict[str, Any]:
    """Token calls go through the gate; a send stuck before its POST is resumed after 9 s."""
    return {
        **app_overrides,
        "LINKLY_AUTH_URL": held_auth.url,
        "LINKLY_TIMEOUT_SECONDS": 2.0,
        "PAYMENT_DEADLINE_SECONDS": 60.0,
    }


def _descendants(pid: int) -> list[int]:
    """Every process below pid (RQ's work horse and its scheduler process), from /proc."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = [], [pid]
    while frontier:
        children = [c for c, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return found


def _kill_workers(processes) -> None:
    """SIGKILL both workers with the job each is running (its forked work horse) and all."""
    for name in ("worker-1", "worker-2"):
        proc = processes.procs[name]
        for pid in [*_descendants(proc.pid), proc.pid]:
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        proc.wait(timeout=10)


def test_workers_killed_after_the_post_left_and_a_new_worker_finishes_once(
    shop, ctl, pinpads, processes, served_app
) -> None:
    # An interactive PIN pad waits for the cardholder: nothing ends before the test says so.
    linkly(pinpads, "PATCH", "pinpads/1", {"mode": "interactive"})
    ctl("DELETE", "requests")
    wf = run(ctl, shop["deal_id"], {"amount": "80.00", "user": "user_1"})
    wait_for(
        lambda: "PRESENT CARD" in str(linkly(pinpads, "GET", "pinpads/1/state")),
        30,
        "the transaction POST to reach the PIN pad",
    )
    sent = payment_of(served_app, terminal_id=shop["terminal_id"])
    assert sent.sent_at is not None and not sent.is_final
    _kill_workers(processes)
    for button in ("card", "crd", "1", "2", "3", "4", "ok"):
        assert linkly(pinpads, "POST", "pinpads/1/press", {"button": button})["accepted"], button
    # The final event lands with no worker alive to report it.
    wait_for(lambda: payment_of(served_app, id=sent.id).state == "approved", 30, "the event")
    assert ctl("GET", f"workflows/{wf}")["status"] == "running"
    processes.start("worker-3", "workers")
    values = finished(ctl, wf, 60)
    assert values["status"] == "approved", values
    payment = settled(served_app, sent.id)
    assert len(charges(pinpads, payment.txn_ref)) == 1 and len(transaction_posts(pinpads)) == 1
    assert rest_count(ctl, "bizproc.event.send") == 1 and events_logged(ctl, wf) == 1
    one_comment_each(ctl, payment.id)


def test_the_only_worker_killed_while_sending_before_the_post_is_resumed_once(
    shop, ctl, pinpads, processes, served_app, held_auth, redis_url
) -> None:
    conn = redis.Redis.from_url(redis_url)
    for key in conn.scan_iter("linkly:token:*"):  # a cold token cache: the send must fetch one
        conn.delete(key)
    held_auth.gate.clear()
    wf = run(ctl, shop["deal_id"], {"amount": "81.00", "user": "user_1"})
    assert held_auth.waiting.wait(60), "no worker reached the token call"
    claimed = payment_of(served_app, terminal_id=shop["terminal_id"])
    assert claimed.state == "sending" and claimed.session_id and claimed.sent_at is None
    _kill_workers(processes)
    # The dead worker's renewal lock would expire on its own (45 s); clear it rather than wait.
    for key in conn.scan_iter("linkly:token:lock:*"):
        conn.delete(key)
    conn.close()
    held_auth.gate.set()
    assert transaction_posts(pinpads) == []  # nothing left before the kill
    processes.start("worker-3", "workers")
    values = finished(ctl, wf, 60)
    assert values["status"] == "approved", values
    payment = settled(served_app, claimed.id)
    assert payment.session_id == claimed.session_id and payment.txn_ref == claimed.txn_ref
    assert len(charges(pinpads)) == 1 and len(transaction_posts(pinpads)) == 1
    one_comment_each(ctl, payment.id)
