"""One benchmark run: our pipeline, the blocking baseline, and the portal-ceiling phase."""

from __future__ import annotations

import json
import random
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import requests

from bench import shop
from bench.load import Driver, Timings
from bench.loopback import wait_http
from bench.metrics import (
    ProcSampler,
    Role,
    cpu_delta,
    current_rss,
    peak_overlap,
    percentile,
    wait_until,
)
from bench.shop import Planned, Sim
from bench.stack import LINKLY_PASS, LINKLY_USER, Options, Stack, free_port

SEED = 20240611
UI_SHARE = 0.15  # of purchases, entered through the payment screen's JSON API
REFUND_SHARE = 0.10  # of purchases, refunded afterwards by a robot
REPORT_COMMANDS = 6  # an approved invoice payment's report: pay_add, pay, event, stage, 2 comments


@dataclass
class Params:
    """What one run does (from the command line)."""

    quick: bool
    pinpads: int
    payments: int
    workers: int
    rate: float
    delays: tuple[float, float]
    database: str | None
    baseline: bool
    baseline_seconds: float
    ceiling_seconds: float
    settle_seconds: float
    soak_minutes: float = 0.0
    profile: str | None = None
    trace_memory: str | None = None


@dataclass
class Figures:
    """Every figure of one side (ours or the baseline)."""

    name: str
    values: dict[str, Any] = field(default_factory=dict)


def _returns(wf: dict[str, Any]) -> dict[str, Any]:
    return {k.lower(): v for step in wf.get("returns", {}).values() for k, v in step.items()}


def _event_ts(wf: dict[str, Any]) -> float | None:
    for line in wf.get("log", []):
        if line.get("kind") == "event":
            return float(line["ts"])
    return None


@dataclass
class _Tally:
    """What each payment of a phase came to: when it ended, whether it was right, overheads."""

    ends: dict[int, float] = field(default_factory=dict)  # planned index -> end
    overhead: list[float] = field(default_factory=list)  # ms, PIN pad's end -> the robot's event
    correct: int = 0
    wrong: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)

    def count(self, outcome: str) -> None:
        """One more payment that ended so."""
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1


def _tally_ui(tally: _Tally, p: Planned, t: Timings, db: dict[str, dict[str, Any]]) -> None:
    """A payment from the screen: ended when the screen saw it final; correct when reported."""
    final = t.ui_final.get(p.index)
    state = final[0] if final else "running"
    tally.count(f"ui {state}")
    if final:
        tally.ends[p.index] = final[1]
    pid = t.ui_payment.get(p.index)
    reported = pid in db and db[pid]["report_state"] == "done"
    # A cancel pressed too late loses to the approval (the PIN pad was processing).
    ok = (
        final is not None
        and reported
        and (state == p.outcome or (p.outcome == "cancelled" and state == "approved"))
    )
    tally.correct += ok
    tally.wrong += not ok and final is not None


def _latency_figures(t: Timings) -> dict[str, Any]:
    """The handler's and the screen's answers: rate, percentiles, statuses."""
    return {
        "handler_rate": _rate(*t.phases[0]) if t.phases else None,
        "handler_p50": percentile(t.handler_ms, 50),
        "handler_p99": percentile(t.handler_ms, 99),
        "handler_status": t.handler_status,
        "driver_late_p99": percentile(t.lateness_ms, 99),
        "ui_start_p50": percentile(t.ui_start_ms, 50),
        "ui_start_p99": percentile(t.ui_start_ms, 99),
        "ui_poll_p99": percentile(t.ui_poll_ms, 99),
        "ui_status": t.ui_status,
    }


def _overhead_figures(overhead: list[float]) -> dict[str, Any]:
    """Our delay between the PIN pad's end and the workflow's event."""
    return {
        "overhead_p50": percentile(overhead, 50),
        "overhead_p99": percentile(overhead, 99),
        "overhead_n": len(overhead),
    }


def _concurrency_figures(
    t: Timings, ends: dict[int, float], sessions: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """Payments in flight and PIN pads busy at the peak; completed payments per second."""
    completed = len(ends)
    intervals = [(t.accepted_at[i], e) for i, e in ends.items() if i in t.accepted_at]
    first = min((t.accepted_at[i] for i in ends if i in t.accepted_at), default=0.0)
    last = max(ends.values(), default=0.0)
    since = t.phases[0][1] - 1.0 if t.phases else 0.0  # this phase's sessions only
    charged = [
        s for s in sessions.values()
        if s["op"] == "transaction" and s["finished"] and s["created"] >= since
    ]  # fmt: skip
    return {
        "in_flight": peak_overlap(intervals),
        "pinpads_busy": peak_overlap((s["created"], s["finished"]) for s in charged),
        "throughput": completed / (last - first) if completed and last > first else 0.0,
    }


def _cost_figures(
    cpu: dict[str, float], wall: float, roles: list[Role], completed: int
) -> dict[str, Any]:
    """CPU per payment and by role, wall time, peak RSS by role."""
    ours_cpu = sum(cpu.values())
    return {
        "cpu_ms_per_payment": 1000 * ours_cpu / completed if completed else None,
        "cpu_by_role": cpu,
        "wall": wall,
        "rss": {r.name: dict(r.peak_rss) for r in roles},
    }


def _request_figures(
    counts: dict[str, Any], lk_before: dict[str, int], lk_after: dict[str, int], completed: int
) -> dict[str, Any]:
    """Bitrix24 REST calls and batch commands, Linkly calls: per payment, by method, refused."""
    limited = sum(v for k, v in counts.get("errors", {}).items() if k.startswith("503"))
    rest = counts["total"] - limited
    commands = sum(counts["batch_commands"].values())
    lk_total = sum(lk_after.values()) - sum(lk_before.values())
    return {
        "rest_per_payment": rest / completed if completed else None,
        "commands_per_payment": commands / completed if completed else None,
        "linkly_per_payment": lk_total / completed if completed else None,
        "rest_total": rest,
        "rest_by_method": counts["requests"],
        "commands_by_method": counts["batch_commands"],
        "linkly_by_route": {k: lk_after.get(k, 0) - lk_before.get(k, 0) for k in lk_after},
        "limited_503": limited,
        "errors": counts.get("errors", {}),
    }


class Run:
    """Holds the stack and the shop between the phases of one run."""

    def __init__(self, params: Params) -> None:
        self.p = params
        self.stack = Stack(
            Options(web_workers=2, workers=params.workers, database=params.database,
                    profile=params.profile, trace_memory=params.trace_memory)
        )  # fmt: skip
        self.rng = random.Random(SEED)
        self.sim: Sim
        self.app: Any = None
        self.pads: list[dict[str, Any]] = []
        self.terminal_ids: dict[str, int] = {}
        self.notes: list[str] = []

    # -- set-up ------------------------------------------------------------------------------
    def setup(self) -> None:
        """Start the stack, install the app, make and pair the PIN pads."""
        self.sim, self.app, self.pads, self.terminal_ids = shop.prepare(
            self.stack, self.p.pinpads, self.p.delays, self.rng
        )

    def _db_payments(self) -> dict[str, dict[str, Any]]:
        from sqlalchemy import select

        from bizproc_app.extensions import db
        from bizproc_app.models import Payment

        with self.app.app_context():
            rows = {
                p.id: {
                    "session_id": p.session_id,
                    "state": p.state,
                    "report_state": p.report_state,
                    "kind": p.kind,
                    "source": p.source,
                    "txn_ref": p.txn_ref,
                }
                for p in db.session.scalars(select(Payment))
            }
        return rows

    def _workflows(self) -> dict[str, dict[str, Any]]:
        return {w["id"]: w for w in self.sim.b24("GET", "workflows", timeout=120)}

    def _done_checker(self, wf_ids: set[str]):
        state = {"next": 0.0, "done": False}

        def done() -> bool:
            if state["done"] or time.monotonic() < state["next"]:
                return bool(state["done"])
            state["next"] = time.monotonic() + 2.0
            flows = self._workflows()
            state["done"] = all(flows[w]["status"] != "running" for w in wf_ids)
            return bool(state["done"])

        return done

    # -- our pipeline --------------------------------------------------------------------------
    def ours(self) -> Figures:
        """Drive our stack with the payment mix; return its figures."""
        planned = shop.plan(self.p.payments, self.pads, UI_SHARE, self.rng)
        forms = shop.purchases(self.sim, planned)
        robots = [p for p in planned if p.entry == "robot"]
        handler_url = forms[0]["url"] if forms else f"{self.stack.urls['web']}/bitrix/handler"
        frames = shop.Frames(self.sim, [p.deal_id for p in planned if p.entry == "ui"])
        ours_roles = [r for r in self.stack.roles if r.ours]
        sampler = ProcSampler(ours_roles)
        self.sim.b24("DELETE", "requests")
        lk_before = self.sim.lk("GET", "stats")["requests"]
        cpu0 = sampler.cpu()
        sampler.start()
        t0 = time.time()
        driver = Driver(self.stack.urls["web"], handler_url, frames)
        driver.run(
            planned, self.p.rate, self.terminal_ids, self.p.settle_seconds,
            done=self._done_checker({p.workflow_id for p in robots}),
        )  # fmt: skip
        # Refunds: a robot refunds some approved robot payments, at the same rate.
        flows = self._workflows()
        approved = [p for p in robots if _returns(flows[p.workflow_id]).get("status") == "approved"]
        self.rng.shuffle(approved)
        refunds = [
            Planned(10_000_000 + i, "robot", "approved", p.terminal, p.deal_id, p.invoice_id)
            for i, p in enumerate(approved[: max(1, int(len(planned) * REFUND_SHARE))])
        ]
        ids = {
            p.index: _returns(flows[p.workflow_id]).get("payment_id")
            for p in approved[: len(refunds)]
        }
        if refunds:
            shop.robot_forms(
                self.sim,
                [(r, r.deal_id, "linkly_pos_refund", {"payment_id": ids[p.index]})
                 for r, p in zip(refunds, approved, strict=False)],
            )  # fmt: skip
            driver.run(
                refunds, self.p.rate, self.terminal_ids, self.p.settle_seconds,
                done=self._done_checker({r.workflow_id for r in refunds}),
            )  # fmt: skip
        # Every report landed (bounded): CPU is counted until the last write.
        wait_until(
            lambda: all(r["report_state"] != "pending" for r in self._db_payments().values()),
            timeout=self.p.settle_seconds,
            interval=1.0,
        )
        cpu = cpu_delta(cpu0, sampler.cpu())
        sampler.stop()
        wall = time.time() - t0
        driver.close()
        return self._figures("ours", planned + refunds, robots + refunds, driver, cpu, wall,
                             ours_roles, lk_before)  # fmt: skip

    def _figures(
        self,
        name: str,
        planned: list[Planned],
        robots: list[Planned],
        driver: Driver,
        cpu: dict[str, float],
        wall: float,
        roles: list[Role],
        lk_before: dict[str, int],
    ) -> Figures:
        flows = self._workflows()
        db = self._db_payments() if name == "ours" else {}
        sessions = {
            s["sessionId"].replace("-", "").lower(): s
            for s in self.sim.lk("GET", "sessions", timeout=120)["sessions"]
        }
        counts = self.sim.b24("GET", "requests")
        lk_after = self.sim.lk("GET", "stats")["requests"]
        t = driver.t
        tally = _Tally()
        for p in planned:
            if p.entry == "robot":
                self._tally_robot(tally, name, p, flows.get(p.workflow_id, {}), db, sessions)
            else:
                _tally_ui(tally, p, t, db)
        completed = len(tally.ends)
        values = {
            "payments": len(planned),
            "completed": completed,
            "correct": tally.correct,
            "wrong": tally.wrong,
            "outcomes": tally.outcomes,
            **_latency_figures(t),
            **_overhead_figures(tally.overhead),
            **_concurrency_figures(t, tally.ends, sessions),
            **_cost_figures(cpu, wall, roles, completed),
            **_request_figures(counts, lk_before, lk_after, completed),
        }
        return Figures(name, values)

    def _tally_robot(
        self,
        tally: _Tally,
        name: str,
        p: Planned,
        wf: dict[str, Any],
        db: dict[str, dict[str, Any]],
        sessions: dict[str, dict[str, Any]],
    ) -> None:
        """A robot call: ended at its workflow's event, correct when told the planned outcome.

        Ours must also have reported it; the overhead runs from the PIN pad's end to the event.
        """
        ts = _event_ts(wf)
        values = _returns(wf)
        status = values.get("status")
        if wf.get("status") != "running" and ts is not None:
            tally.ends[p.index] = ts
        tally.count(f"robot {status or 'running'}")
        ok = status == p.outcome
        pid = values.get("payment_id")
        if name == "ours" and pid in db:
            row = db[pid]
            ok = ok and row["report_state"] == "done"
            sid = (row["session_id"] or "").replace("-", "").lower()
            fin = sessions.get(sid, {}).get("finished")
            if fin and ts:
                tally.overhead.append((ts - fin) * 1000)
        elif name == "baseline" and ts is not None:
            fin = self._baseline_finished(values.get("txn_ref"), sessions)
            if fin:
                tally.overhead.append((ts - fin) * 1000)
        tally.correct += ok
        tally.wrong += not ok and ts is not None

    @staticmethod
    def _baseline_finished(txn_ref: Any, sessions: dict[str, dict[str, Any]]) -> float | None:
        if not txn_ref:
            return None
        for sid, s in sessions.items():
            if sid.startswith(str(txn_ref).lower()):
                return float(s["finished"]) if s.get("finished") else None
        return None

    # -- the baseline ----------------------------------------------------------------------------
    def baseline(self) -> Figures:
        """The blocking baseline on the same simulators, same pads, same load (robot calls)."""
        shop.new_pair_codes(self.sim, self.pads)
        secrets = {}
        for pad in self.pads:
            resp = requests.post(
                f"{self.stack.urls['linkly']}/v1/pairing/cloudpos",
                json={
                    "username": LINKLY_USER,
                    "password": LINKLY_PASS,
                    "pairCode": pad["pair_code"],
                },
                timeout=10,
            )
            resp.raise_for_status()
            secrets[f"T{pad['id']}"] = resp.json()["secret"]
        secrets_file = self.stack.tmp / "baseline-secrets.json"
        secrets_file.write_text(json.dumps(secrets))
        planned = shop.plan(self.p.payments, self.pads, UI_SHARE, random.Random(SEED + 1))
        for p in planned:  # the baseline has no payment screen: every entry is a robot call
            p.entry = "robot"
            p.outcome = "declined" if p.outcome == "declined" else "approved"
        shop.purchases(self.sim, planned)
        port = free_port()
        redis_url = self.stack.urls["redis"].rsplit("/", 1)[0] + "/1"
        env = {
            **self.stack.env,
            "BASELINE_REDIS_URL": redis_url,
            "BASELINE_LINKLY_URL": self.stack.urls["linkly"],
            "BASELINE_SECRETS_FILE": str(secrets_file),
        }
        py = sys.executable
        self.stack.start_extra(
            "baseline-web",
            [py, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "2",
             "--backlog", "2048", "bench.baseline:create_app()"],
            ours=True, env=env,
        )  # fmt: skip
        rq = str(Path(py).parent / "rq")
        for i in range(1, self.p.workers + 1):
            self.stack.start_extra(
                f"baseline-worker-{i}",
                [rq, "worker", "-u", redis_url, "--serializer", "rq.serializers.JSONSerializer",
                 "baseline"],
                ours=True, env=env,
            )  # fmt: skip
        wait_http([f"http://127.0.0.1:{port}/handler"])
        roles = [r for r in self.stack.roles if r.name.startswith("baseline")]
        sampler = ProcSampler(roles)
        self.sim.b24("DELETE", "requests")
        self.sim.b24("POST", "ratelimit/reset")
        lk_before = self.sim.lk("GET", "stats")["requests"]
        cpu0 = sampler.cpu()
        sampler.start()
        t0 = time.time()
        driver = Driver(self.stack.urls["web"], f"http://127.0.0.1:{port}/handler", None)
        driver.run(
            planned, self.p.rate, self.terminal_ids, self.p.baseline_seconds,
            done=self._done_checker({p.workflow_id for p in planned}),
        )  # fmt: skip
        cpu = cpu_delta(cpu0, sampler.cpu())
        sampler.stop()
        wall = time.time() - t0
        driver.close()
        figures = self._figures("baseline", planned, planned, driver, cpu, wall, roles, lk_before)
        self.stack.stop([r.name for r in roles])
        return figures

    # -- one portal at the default limits -----------------------------------------------------
    def ceiling(self, commands_per_report: float) -> dict[str, Any]:
        """Our stack at Bitrix24's default limits (2 req/s, burst 50): sustained payments/s."""
        ceiling = 100.0 / commands_per_report
        offered = 1.25 * ceiling
        count = max(10, int(offered * self.p.ceiling_seconds))
        pads = self.pads[: min(len(self.pads), count)]
        for pad in pads:  # quick cardholders: the portal, not the PIN pad, should be the limit
            self.sim.lk("PATCH", f"pinpads/{pad['id']}", {"cardholder_delay": 0.5})
        planned = [
            Planned(i, "robot", "approved", f"T{pads[i % len(pads)]['id']}") for i in range(count)
        ]
        shop.purchases(self.sim, planned)
        self.sim.b24("POST", "config", {"rate_limit": True, "rate_burst": 50, "rate_drain": 2})
        self.sim.b24("POST", "ratelimit/reset")
        self.sim.b24("DELETE", "requests")
        driver = Driver(self.stack.urls["web"], _handler(self), None)
        t0 = time.time()
        window = self.p.ceiling_seconds
        driver.run(planned, offered, self.terminal_ids, 0.0)
        wait_until(lambda: time.time() >= t0 + window * 1.5, window * 1.5 + 5, 0.5)
        flows = self._workflows()
        counts = self.sim.b24("GET", "requests")
        driver.close()
        self.sim.b24("POST", "config", {"rate_limit": False})
        ends = sorted(
            ts for p in planned if (ts := _event_ts(flows.get(p.workflow_id, {}))) is not None
        )
        half = t0 + window * 0.5
        steady = [e for e in ends if half <= e < t0 + window * 1.5]
        limited = sum(v for k, v in counts.get("errors", {}).items() if k.startswith("503"))
        sustained = len(steady) / window
        return {
            "window": window,
            "offered": offered,
            "issued": count,
            "completed": len(ends),
            "sustained": sustained,
            "ceiling": ceiling,
            "share": sustained / ceiling,
            "limited_503": limited,
            "requests": counts["total"] - limited,
            "errors": counts.get("errors", {}),
            "commands_per_report": commands_per_report,
        }

    def soak(self, minutes: float) -> list[dict[str, Any]]:
        """Waves of payments for `minutes`; peak RSS of every role after each wave."""
        rows = []
        roles = [r for r in self.stack.roles if r.ours and not r.name.startswith("baseline")]
        end = time.monotonic() + minutes * 60
        wave = 0
        while time.monotonic() < end:
            wave += 1
            planned = shop.plan(min(self.p.payments, 200), self.pads, UI_SHARE, self.rng)
            shop.purchases(self.sim, planned)
            robots = [p for p in planned if p.entry == "robot"]
            driver = Driver(
                self.stack.urls["web"],
                _handler(self),
                shop.Frames(self.sim, [p.deal_id for p in planned if p.entry == "ui"]),
            )
            driver.run(planned, self.p.rate, self.terminal_ids, 300,
                       done=self._done_checker({p.workflow_id for p in robots}))  # fmt: skip
            driver.close()
            rows.append({"wave": wave, "minute": round(minutes - (end - time.monotonic()) / 60, 1),
                         "rss": {r.name: current_rss(r.pid) for r in roles}})  # fmt: skip
        return rows

    def close(self) -> None:
        """Stop everything this run started."""
        self.stack.stop()


def _handler(run: Run) -> str:
    return f"{run.stack.urls['web']}/bitrix/handler"


def _rate(n: int, first: float, last: float) -> float:
    return (n - 1) / (last - first) if n > 1 and last > first else float(n)


def stamp() -> str:
    """The time of the run, for the report."""
    return datetime.now().astimezone().isoformat(timespec="seconds")
