"""The load driver: robot handler calls and UI API calls on an open-loop schedule, timed here."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import requests

from bench.shop import Frames, Planned

USER_AGENT = "Bitrix24 Webhook Engine"  # what the simulator's queue server sends
UI_POLL_SECONDS = 1.0  # the payment screen polls about once a second (docs/ui-api.md)
FINAL = {"approved", "declined", "cancelled", "failed", "unknown"}


@dataclass
class Timings:
    """What the driver saw, in epoch seconds and milliseconds."""

    handler_ms: list[float] = field(default_factory=list)
    handler_status: dict[int, int] = field(default_factory=dict)
    ui_start_ms: list[float] = field(default_factory=list)
    ui_poll_ms: list[float] = field(default_factory=list)
    ui_status: dict[int, int] = field(default_factory=dict)
    lateness_ms: list[float] = field(default_factory=list)  # how late the driver fired (open loop)
    accepted_at: dict[int, float] = field(default_factory=dict)  # planned index -> our 200
    ui_final: dict[int, tuple[str, float]] = field(default_factory=dict)  # index -> (state, seen)
    ui_payment: dict[int, str] = field(default_factory=dict)  # index -> payment id
    first_sent: float = 0.0
    last_sent: float = 0.0
    phases: list[tuple[int, float, float]] = field(default_factory=list)  # (entries, first, last)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, table: dict[int, int], status: int) -> None:
        """Count one HTTP status."""
        with self.lock:
            table[status] = table.get(status, 0) + 1


class Driver:
    """Fires robot handler POSTs and UI calls at a fixed rate; polls UI payments like the screen."""

    def __init__(
        self, web: str, handler_url: str, frames: Frames | None, threads: int = 64
    ) -> None:
        self.web = web
        self.handler_url = handler_url
        self.frames = frames  # the deals' payment tabs (None: robots only)
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="drive")
        self.local = threading.local()
        self.t = Timings()
        self.ui_open: dict[int, dict[str, Any]] = {}
        self.ui_lock = threading.Lock()

    def _http(self) -> requests.Session:
        if not hasattr(self.local, "s"):
            self.local.s = requests.Session()
        return self.local.s

    def _robot(self, p: Planned) -> None:
        t0 = time.perf_counter()
        try:
            resp = self._http().post(
                self.handler_url,
                data=p.form,
                headers={"User-Agent": USER_AGENT},
                timeout=30,
                allow_redirects=False,
            )
            status = resp.status_code
        except requests.RequestException:
            status = 0
        ms = (time.perf_counter() - t0) * 1000
        with self.t.lock:
            self.t.handler_ms.append(ms)
            if status == 200:
                self.t.accepted_at[p.index] = time.time()
        self.t.count(self.t.handler_status, status)

    def _header(self, deal_id: int) -> dict[str, str]:
        assert self.frames is not None, "UI entries need the deals' frames"
        return self.frames.header(deal_id)

    def _ui_start(self, p: Planned, terminal_id: int) -> None:
        t0 = time.perf_counter()
        try:
            resp = self._http().post(
                f"{self.web}/api/payments",
                json={
                    "target": {"kind": "invoice", "id": p.invoice_id},
                    "terminal_id": terminal_id,
                },
                headers=self._header(p.deal_id),
                timeout=30,
            )
            status = resp.status_code
        except requests.RequestException:
            status, resp = 0, None
        ms = (time.perf_counter() - t0) * 1000
        self.t.count(self.t.ui_status, status)
        with self.t.lock:
            self.t.ui_start_ms.append(ms)
        if status == 201 and resp is not None:
            payment_id = resp.json()["payment"]["id"]
            with self.t.lock:
                self.t.accepted_at[p.index] = time.time()
                self.t.ui_payment[p.index] = payment_id
            with self.ui_lock:
                self.ui_open[p.index] = {
                    "id": payment_id,
                    "planned": p,
                    "started": time.monotonic(),
                    "next": time.monotonic() + UI_POLL_SECONDS,
                    "cancel_sent": False,
                }

    def _ui_poll(self, index: int) -> None:
        with self.ui_lock:
            item = self.ui_open.get(index)
        if item is None:
            return
        headers = self._header(item["planned"].deal_id)
        t0 = time.perf_counter()
        try:
            resp = self._http().get(
                f"{self.web}/api/payments/{item['id']}", headers=headers, timeout=30
            )
            status = resp.status_code
            view = resp.json().get("payment", {}) if status == 200 else {}
        except (requests.RequestException, ValueError):
            status, view = 0, {}
        with self.t.lock:
            self.t.ui_poll_ms.append((time.perf_counter() - t0) * 1000)
        self.t.count(self.t.ui_status, status)
        state = view.get("state")
        if state in FINAL:
            with self.t.lock:
                self.t.ui_final[index] = (str(state), time.time())
            with self.ui_lock:
                self.ui_open.pop(index, None)
            return
        p: Planned = item["planned"]
        display = view.get("display") or {}
        if p.outcome == "cancelled" and not item["cancel_sent"] and display.get("cancel"):
            # The clerk presses Cancel while the cardholder is still at the PIN pad.
            with self.ui_lock:
                item["cancel_sent"] = True
            try:
                resp = self._http().post(
                    f"{self.web}/api/payments/{item['id']}/cancel", headers=headers, timeout=30
                )
                self.t.count(self.t.ui_status, resp.status_code)
                if resp.status_code == 409:  # not cancellable at this instant: try again later
                    with self.ui_lock:
                        item["cancel_sent"] = False
            except requests.RequestException:
                self.t.count(self.t.ui_status, 0)
        with self.ui_lock:
            item["next"] = time.monotonic() + UI_POLL_SECONDS
            item["busy"] = False

    def run(
        self,
        payments: list[Planned],
        rate: float,
        terminal_ids: dict[str, int],
        settle_timeout: float,
        done: Any = None,
    ) -> None:
        """Fire every entry at `rate` per second, then poll UI payments until final (bounded)."""
        start = time.monotonic() + 0.2
        self.t.first_sent = time.time() + 0.2
        for n, p in enumerate(payments):
            due = start + n / rate
            while True:
                now = time.monotonic()
                if now >= due:
                    break
                time.sleep(min(due - now, 0.01))
                self._poll_due()
            with self.t.lock:
                self.t.lateness_ms.append((time.monotonic() - due) * 1000)
            if p.entry == "robot":
                self.pool.submit(self._robot, p)
            else:
                self.pool.submit(self._ui_start, p, terminal_ids[p.terminal])
        self.t.last_sent = time.time()
        self.t.phases.append((len(payments), self.t.first_sent, self.t.last_sent))
        deadline = time.monotonic() + settle_timeout
        while time.monotonic() < deadline:
            self._poll_due()
            with self.ui_lock:
                ui_left = len(self.ui_open)
            if not ui_left and (done is None or done()):
                break
            time.sleep(0.05)

    def _poll_due(self) -> None:
        now = time.monotonic()
        with self.ui_lock:
            due = [i for i, it in self.ui_open.items() if it["next"] <= now and not it.get("busy")]
            for i in due:
                self.ui_open[i]["busy"] = True
        for i in due:
            self.pool.submit(self._ui_poll, i)

    def close(self) -> None:
        """Stop the thread pool (bounded: requests have timeouts)."""
        self.pool.shutdown(wait=True, cancel_futures=True)
