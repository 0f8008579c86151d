"""Set up a run: install the app, PIN pads, terminals, deals, invoices and robot forms."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import requests

from bench.stack import LINKLY_PASS, LINKLY_USER, Stack
from simulators.bitrix24.control_client import Bitrix24Control
from simulators.linkly.control_client import LinklyControl

DEALS_PER_INVOICES = 10  # invoices share deals, ten to a deal


@dataclass
class Planned:
    """One payment of the load: how it enters, what it should end as."""

    index: int
    entry: str  # robot | ui
    outcome: str  # approved | declined | cancelled
    terminal: str  # terminal name, "T<pad id>"
    deal_id: int = 0
    invoice_id: int = 0
    form: list[tuple[str, str]] = field(default_factory=list)  # the robot's handler form
    workflow_id: str = ""


class Sim:
    """Both simulators' control clients, on one HTTP session."""

    def __init__(self, stack: Stack) -> None:
        self.http = requests.Session()
        self.portal = Bitrix24Control(stack.urls["bitrix"], session=self.http, timeout=60)
        self.pads = LinklyControl(stack.urls["linkly"], session=self.http, timeout=60)

    def b24(self, method: str, path: str, body: Any = None, timeout: float = 60) -> Any:
        """Call the Bitrix24 simulator's control API."""
        return self.portal.call(method, path, body, timeout=timeout)

    def lk(self, method: str, path: str, body: Any = None, timeout: float = 60) -> Any:
        """Call the Linkly simulator's control API."""
        return self.pads.call(method, path, body, timeout=timeout)


def install(sim: Sim) -> str:
    """Install the app on the simulated portal; return its member id."""
    sent = sim.b24("POST", "install", {"mode": "event"})
    if sent.get("status") != 200:
        raise RuntimeError(f"install failed: {sent}")
    return str(sim.b24("GET", "state")["member_id"])


def make_pinpads(
    sim: Sim, count: int, delays: tuple[float, float], rng: random.Random
) -> list[dict[str, Any]]:
    """PIN pads 1..count with a cardholder delay each (triangular lo..hi, mode near lo)."""
    lo, hi = delays
    pads = []
    for i in range(1, count + 1):
        delay = round(rng.triangular(lo, hi, lo + (hi - lo) * 0.3), 2)
        if i == 1:  # the simulator always creates pad 1
            sim.lk("PATCH", "pinpads/1", {"cardholder_delay": delay, "mode": "auto"})
            code = sim.lk("POST", "pinpads/1/pair-code", {"ttl": 86400})["pair_code"]
            pads.append({"id": "1", "pair_code": code, "delay": delay})
        else:
            made = sim.lk("POST", "pinpads", {"mode": "auto", "cardholder_delay": delay})
            pads.append({"id": str(made["id"]), "pair_code": made["pair_code"], "delay": delay})
    return pads


def new_pair_codes(sim: Sim, pads: list[dict[str, Any]]) -> None:
    """Fresh single-use pair codes (for a second pairing by the baseline)."""
    for pad in pads:
        pad["pair_code"] = sim.lk("POST", f"pinpads/{pad['id']}/pair-code", {"ttl": 86400})[
            "pair_code"
        ]


def pair_terminals(app: Any, pads: list[dict[str, Any]]) -> None:
    """Pair every PIN pad as a shared terminal T<id>, in-process through the app's own service."""
    from sqlalchemy import select

    from bizproc_app.extensions import db, secrets
    from bizproc_app.models import Portal
    from bizproc_app.terminals.management import pair_terminal
    from bizproc_app.wiring.services import linkly

    with app.app_context():
        portal = db.session.scalar(select(Portal))
        client = linkly()
        for pad in pads:
            pair_terminal(
                db.session,
                client,
                secrets.box,
                portal=portal,
                name=f"T{pad['id']}",
                username=LINKLY_USER,
                password=LINKLY_PASS,
                pair_code=pad["pair_code"],
                shared=True,
                currency="AUD",
            )


def prepare(
    stack: Stack, pinpads: int, delays: tuple[float, float], rng: random.Random
) -> tuple[Sim, Any, list[dict[str, Any]], dict[str, int]]:
    """Start the stack, install the app, make and pair the PIN pads.

    Returns the simulators' client, an app bound to the stack's config, the PIN pads and the
    terminal ids by name.
    """
    from sqlalchemy import select

    from bizproc_app import create_app
    from bizproc_app.extensions import db
    from bizproc_app.models import Terminal

    stack.start()
    sim = Sim(stack)
    install(sim)
    app = create_app(stack.config)
    pads = make_pinpads(sim, pinpads, delays, rng)
    pair_terminals(app, pads)
    with app.app_context():
        terminal_ids = {t.name: t.id for t in db.session.scalars(select(Terminal))}
    return sim, app, pads, terminal_ids


def plan(
    count: int, pads: list[dict[str, Any]], ui_share: float, rng: random.Random
) -> list[Planned]:
    """The payment mix: robot approvals and declines; UI approvals and cancels."""
    out = []
    for i in range(count):
        terminal = f"T{pads[i % len(pads)]['id']}"
        if rng.random() < ui_share:
            out.append(
                Planned(i, "ui", "cancelled" if rng.random() < 0.6 else "approved", terminal)
            )
        else:
            out.append(
                Planned(i, "robot", "declined" if rng.random() < 0.15 else "approved", terminal)
            )
    return out


def make_documents(sim: Sim, payments: list[Planned]) -> None:
    """A deal per ten payments and an invoice per payment (cents 51: the PIN pad declines)."""
    deal_id = 0
    for p in payments:
        if p.index % DEALS_PER_INVOICES == 0:
            fields = {"title": f"Bench deal {p.index}", "opportunity": 10, "currencyId": "AUD"}
            made = sim.b24("POST", "deals", {"fields": fields})
            deal_id = int(made.get("id") or made.get("ID"))
        amount = 10.51 if p.outcome == "declined" else 10.00
        fields = {"title": f"Bench {p.index}", "opportunity": amount, "currencyId": "AUD"}
        rows = [{"productName": fields["title"], "price": amount, "quantity": 1}]
        made = sim.b24("POST", "invoices", {"fields": fields, "rows": rows, "deal_id": deal_id})
        p.deal_id, p.invoice_id = deal_id, int(made.get("id") or made.get("ID"))


def purchases(sim: Sim, planned: list[Planned]) -> list[dict[str, Any]]:
    """Make the planned payments' documents; return the "Send to POS" form of each robot entry."""
    make_documents(sim, planned)
    return robot_forms(
        sim,
        [(p, p.deal_id, "linkly_pos_payment",
          {"invoice_id": str(p.invoice_id), "terminal": p.terminal})
         for p in planned if p.entry == "robot"],
    )  # fmt: skip


def robot_forms(
    sim: Sim, runs: list[tuple[Planned | None, int, str, dict[str, Any]]]
) -> list[dict[str, Any]]:
    """Run robots with delivery switched off; return each handler call's form as it would be sent.

    `runs` holds (planned, deal id, robot code, properties). The simulator signs the event_token
    and logs the form; the driver POSTs it itself, at a fixed rate, timing our answer.
    """
    before = len(sim.b24("GET", "outbound?kind=robot"))
    sim.b24("POST", "faults", {"drop_handler_calls": len(runs)})
    ids = []
    for _, deal_id, code, props in runs:
        wf = sim.b24("POST", "robots/run", {"id": deal_id, "code": code, "properties": props})
        ids.append(str(wf["id"]))
    sim.b24("POST", "faults", {"drop_handler_calls": 0})
    sent = sim.b24("GET", "outbound?kind=robot")[before:]
    by_ref = {e["ref"]: e for e in sent}
    out = []
    for (planned, _, _, _), wf_id in zip(runs, ids, strict=True):
        entry = by_ref[wf_id]
        if planned is not None:
            planned.workflow_id = wf_id
            planned.form = [tuple(kv) for kv in entry["fields"]]
        out.append({"workflow_id": wf_id, "url": entry["url"], "form": entry["fields"]})
    return out


def frame_token(sim: Sim, deal_id: int) -> str:
    """Open the deal's payment tab as user 1 (admin); return the frame token from POS_BOOT."""
    import json
    import re

    entry = sim.b24("POST", "placements/open", {"placement": "CRM_DEAL_DETAIL_TAB", "id": deal_id})
    match = re.search(r'"token":\s*("[^"]+")', entry.get("response") or "")
    if not match:
        raise RuntimeError(f"no frame token in the placement page: {str(entry)[:500]}")
    return str(json.loads(match.group(1)))


class Frames:
    """The clerk's payment tabs, one per deal (a frame session is bound to its card).

    Opened before the load starts (opening one asks Bitrix24, which faults may take down), and
    opened again when the app says the session ended (Redis lost it), as a clerk reopens the tab.
    """

    def __init__(self, sim: Sim, deal_ids: Iterable[int]) -> None:
        self.sim = sim
        self.lock = threading.Lock()
        self.tokens = {d: frame_token(sim, d) for d in sorted(set(deal_ids))}

    def header(self, deal_id: int) -> dict[str, str]:
        """The Authorization header of the deal's tab."""
        with self.lock:
            if deal_id not in self.tokens:
                self.tokens[deal_id] = frame_token(self.sim, deal_id)
            return {"Authorization": f"Bearer {self.tokens[deal_id]}"}

    def reopen(self, deal_id: int, stale: dict[str, str]) -> None:
        """Open the deal's tab again unless another thread already did."""
        with self.lock:
            if stale.get("Authorization") == f"Bearer {self.tokens.get(deal_id)}":
                self.tokens[deal_id] = frame_token(self.sim, deal_id)
