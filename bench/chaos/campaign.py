"""One seeded fault campaign: purchases and refunds enter while faults fire, then everything
settles and the invariants are checked from the simulators' ledgers and our database."""

from __future__ import annotations

import random
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import requests

from bench import shop
from bench.chaos import invariants, scan
from bench.chaos.faults import Injector
from bench.shop import Planned
from bench.stack import Options, Stack

# Short clocks so that unknown outcomes, their recovery and the not-found grace all happen
# within a campaign (production defaults: 600 s, 20 s, 10 s, 120 s).
SETTINGS = {
    "PAYMENT_DEADLINE_SECONDS": 40.0,
    "PAYMENT_EVENT_TIMEOUT_SECONDS": 8.0,
    "PAYMENT_RECOVERY_INTERVAL_SECONDS": 4.0,
    "PAYMENT_NOT_FOUND_GRACE_SECONDS": 30.0,
}
# Race mode: a short busy wait and deadline, so payments queued behind busy PIN pads reach both
# limits just as their pad frees up and a worker takes them; clerks press Cancel during sends.
RACE_SETTINGS = {"TERMINAL_BUSY_WAIT_SECONDS": 10.0, "PAYMENT_DEADLINE_SECONDS": 14.0}
UI_POLL_SECONDS = 0.5
FINAL = {"approved", "declined", "cancelled", "failed"}


@dataclass
class Plan:
    """What one campaign does."""

    seed: int
    purchases: int
    refund_share: float = 0.25  # of the approved robot purchases
    ui_share: float = 0.1
    pinpads: int = 40
    rate: float = 4.0  # entries per second
    web_processes: int = 1
    workers: int = 2
    database: str | None = None
    fault_every: tuple[float, float] = (1.5, 4.0)
    bitrix_down_seconds: float = 60.0
    robots_wait: float = 120.0  # at most this long for the purchases' answers before refunding
    settle_seconds: float = 900.0
    race: bool = False


@dataclass
class Campaign:
    """The stack, the shop and what happened."""

    plan: Plan
    rng: random.Random = field(init=False)
    stack: Stack = field(init=False)
    entries: list[Planned] = field(default_factory=list)
    ui_payments: dict[int, str] = field(default_factory=dict)  # planned index -> payment id
    refunds: list[Planned] = field(default_factory=list)
    phases: dict[str, float] = field(default_factory=dict)
    race_cancels: int = 0  # Cancel pressed while the payment was queued or being sent

    def __post_init__(self) -> None:
        self.rng = random.Random(self.plan.seed)
        multi = self.plan.web_processes > 1
        self.stack = Stack(
            Options(web_workers=1 if multi else 2, workers=self.plan.workers,
                    database=self.plan.database, web_processes=self.plan.web_processes,
                    settings=self.settings())
        )  # fmt: skip

    def settings(self) -> dict[str, float]:
        """The app's clocks for this campaign."""
        return {**SETTINGS, **(RACE_SETTINGS if self.plan.race else {})}

    def run(self) -> dict[str, Any]:
        """Set up, enter under faults, settle, check; return every figure."""
        t0 = time.monotonic()
        sim, app, pads, terminals = shop.prepare(
            self.stack, self.plan.pinpads, (1.0, 3.0), self.rng
        )
        self.sim, self.app, self.terminals = sim, app, terminals
        self.entries = shop.plan(self.plan.purchases, pads, self.plan.ui_share, self.rng)
        shop.make_documents(sim, self.entries)
        self.frames = shop.Frames(sim, [p.deal_id for p in self.entries if p.entry == "ui"])
        entry_seconds = self.plan.purchases / self.plan.rate
        injector = Injector(self.stack, sim, random.Random(self.plan.seed + 1),
                            self.plan.fault_every, self.plan.bitrix_down_seconds,
                            expected_seconds=entry_seconds * 1.5)  # fmt: skip
        injector.start()
        with ThreadPoolExecutor(max_workers=32, thread_name_prefix="ui") as pool:
            self._enter(self.entries, pool)
            self.phases["purchases entered"] = time.monotonic() - t0
            self._wait(self._robots_done, self.plan.robots_wait)
            self._enter_refunds()
            self.phases["refunds entered"] = time.monotonic() - t0
        injector.stop()
        self.phases["faults stopped"] = time.monotonic() - t0
        settled = self._wait(self._settled, self.plan.settle_seconds)
        self.phases["settled"] = time.monotonic() - t0
        facts = invariants.collect(sim, app)
        result = {
            "plan": self.plan.__dict__,
            "settings": self.settings(),
            "settled": settled,
            "phases": {k: round(v, 1) for k, v in self.phases.items()},
            "faults": dict(injector.counts),
            "fault_log": injector.log,
            "entries": {
                **invariants.entry_counts(self.entries, self.refunds),
                "purchase by ui, started": len(self.ui_payments),
            },
            **invariants.check(facts, self._robots(), self.ui_payments),
            "secret_scan": scan.scan(self.stack, app, sim),
        }
        if self.plan.race:
            result["races"] = {"cancel during send": self.race_cancels, **invariants.races(app)}
        return result

    def close(self) -> None:
        """Stop every process."""
        self.stack.stop()

    # -- entering ------------------------------------------------------------------------------
    def _enter(self, entries: list[Planned], pool: ThreadPoolExecutor) -> None:
        start = time.monotonic()
        for n, p in enumerate(entries):
            time.sleep(max(0.0, start + n / self.plan.rate - time.monotonic()))
            if p.entry == "robot":
                props = {"invoice_id": str(p.invoice_id), "terminal": p.terminal}
                wf = self.sim.b24("POST", "robots/run",
                                  {"id": p.deal_id, "code": "linkly_pos_payment",
                                   "properties": props})  # fmt: skip
                p.workflow_id = str(wf["id"])
            else:
                pool.submit(self._screen, p)

    def _screen(self, p: Planned) -> None:
        """The clerk's screen: Send Payment, poll, press Cancel for the planned cancels."""
        http = _Tab(self.frames, p.deal_id)
        web = self.stack.urls["web"]
        body = {"target": {"kind": "invoice", "id": p.invoice_id},
                "terminal_id": self.terminals[p.terminal]}  # fmt: skip
        for _ in range(20):  # the clerk presses again while the app answers 5xx or is unreachable
            try:
                resp = http.post(f"{web}/api/payments", json=body, timeout=30)
            except requests.RequestException:
                time.sleep(1)
                continue
            if resp.status_code == 201:
                break
            if resp.status_code < 500 and resp.status_code != 401:
                return  # refused (e.g. already paid after a retry): nothing started
            time.sleep(1)
        else:
            return
        pid = resp.json()["payment"]["id"]
        self.ui_payments[p.index] = pid
        if self.plan.race and p.outcome == "cancelled":
            self._cancel_during_send(http, f"{web}/api/payments/{pid}/cancel")
        deadline = time.monotonic() + 600
        cancel_sent = False
        while time.monotonic() < deadline:
            time.sleep(UI_POLL_SECONDS)
            try:
                view = http.get(f"{web}/api/payments/{pid}", timeout=30).json().get("payment", {})
                if view.get("state") in FINAL:
                    return
                if (
                    p.outcome == "cancelled"
                    and not cancel_sent
                    and (view.get("display") or {}).get("cancel")
                ):
                    cancel_sent = http.post(f"{web}/api/payments/{pid}/cancel", timeout=30).ok
            except (requests.RequestException, ValueError):
                continue

    def _cancel_during_send(self, http: _Tab, url: str) -> None:
        """Press Cancel at once, while a worker may be taking the payment for its PIN pad."""
        time.sleep(self.rng.uniform(0.0, 0.3))
        try:
            http.post(url, timeout=30)
            self.race_cancels += 1
        except requests.RequestException:
            pass

    def _enter_refunds(self) -> None:
        # Approved robot purchases as our database knows them: a refund may start before the
        # purchase's own workflow has heard (as a clerk may refund at once).
        by_invoice = {p.invoice_id: p for p in self.entries if p.entry == "robot"}
        rows = invariants.db_payments(self.app).items()
        approved = [
            (by_invoice[row["invoice_id"]], pid)
            for pid, row in sorted(rows)
            if row["kind"] == "purchase" and row["state"] == "approved"
            and row["source"] == "robot" and row["invoice_id"] in by_invoice
        ]  # fmt: skip
        approved.sort(key=lambda pair: pair[0].index)  # a seeded shuffle needs a fixed order
        self.rng.shuffle(approved)
        picked = approved[: int(len(approved) * self.plan.refund_share)]
        start = time.monotonic()
        for n, (p, payment_id) in enumerate(picked):
            time.sleep(max(0.0, start + n / self.plan.rate - time.monotonic()))
            r = Planned(1_000_000 + n, "robot", "approved", p.terminal, p.deal_id, p.invoice_id)
            wf = self.sim.b24("POST", "robots/run",
                              {"id": p.deal_id, "code": "linkly_pos_refund",
                               "properties": {"payment_id": payment_id}})  # fmt: skip
            r.workflow_id = str(wf["id"])
            self.refunds.append(r)

    # -- waiting -------------------------------------------------------------------------------
    def _workflows(self) -> dict[str, dict[str, Any]]:
        return {w["id"]: w for w in self.sim.b24("GET", "workflows", timeout=120)}

    def _robots(self) -> list[Planned]:
        return [p for p in self.entries + self.refunds if p.entry == "robot"]

    def _robots_done(self) -> bool:
        flows = self._workflows()
        return all(flows[p.workflow_id]["status"] != "running" for p in self._robots())

    def _settled(self) -> bool:
        if not self._robots_done():
            return False
        payments = invariants.db_payments(self.app)
        return all(
            p["state"] in FINAL and p["report_state"] != "pending" for p in payments.values()
        )

    @staticmethod
    def _wait(done: Any, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if done():
                    return True
            except requests.RequestException:
                pass
            time.sleep(2)
        return False


class _Tab:
    """The deal's payment tab: its frame token on every call, the tab reopened on a 401."""

    def __init__(self, frames: shop.Frames, deal_id: int) -> None:
        self.frames, self.deal_id, self.http = frames, deal_id, requests.Session()

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        """One API call; when the session ended (Redis lost), reopen the tab and call again."""
        headers = self.frames.header(self.deal_id)
        resp = self.http.request(method, url, headers=headers, **kwargs)
        if resp.status_code == 401:
            try:
                self.frames.reopen(self.deal_id, headers)
            except (requests.RequestException, RuntimeError):
                return resp  # Bitrix24 is down: the clerk tries again later
            headers = self.frames.header(self.deal_id)
            resp = self.http.request(method, url, headers=headers, **kwargs)
        return resp

    def get(self, url: str, **kwargs: Any) -> requests.Response:
        """GET through the tab."""
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> requests.Response:
        """POST through the tab."""
        return self.request("POST", url, **kwargs)
