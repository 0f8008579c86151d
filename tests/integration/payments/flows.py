"""Steps shared by the payment scenarios: run robots, read both simulators' records."""

from __future__ import annotations

import time
from typing import Any

from simulators.linkly import LinklyControl
from tests.helpers.bitrix24 import Ctl, workflow_returns
from tests.helpers.waiting import wait_for
from tests.integration.payments.conftest import ledger, payment_of

SEND = "linkly_pos_payment"
REFUND = "linkly_pos_refund"


def invoice(ctl: Ctl, deal_id: int, amount: str) -> int:
    """Create a smart invoice for the deal, with one product row of its amount; return its id."""
    fields = {"title": "Invoice", "opportunity": float(amount), "currencyId": "AUD"}
    rows = [{"productName": "Invoice", "price": float(amount), "quantity": 1}]
    made = ctl("POST", "invoices", {"fields": fields, "rows": rows, "deal_id": deal_id})
    return int(made.get("id") or made.get("ID"))


def run(ctl: Ctl, deal_id: int, properties: dict[str, Any], code: str = SEND) -> str:
    """Start a robot on the deal; return its workflow id."""
    wf = ctl("POST", "robots/run", {"id": deal_id, "code": code, "properties": properties})
    return str(wf["id"])


def finished(ctl: Ctl, workflow_id: str, timeout: float = 30.0) -> dict[str, Any]:
    """Wait for the workflow to leave `running`; return its return values."""

    def done() -> dict[str, Any] | None:
        workflow = ctl("GET", f"workflows/{workflow_id}")
        return workflow if workflow["status"] != "running" else None

    return workflow_returns(wait_for(done, timeout, f"workflow {workflow_id} to finish"))


def outcome(ctl: Ctl, deal_id: int, properties: dict[str, Any], code: str = SEND) -> dict:
    """Run a robot and wait for the one outcome it reports."""
    return finished(ctl, run(ctl, deal_id, properties, code))


def events_logged(ctl: Ctl, workflow_id: str) -> int:
    """How many bizproc.event.send calls the workflow took (its log's event lines)."""
    workflow = ctl("GET", f"workflows/{workflow_id}")
    return sum(1 for line in workflow["log"] if line["kind"] == "event")


def rest_count(ctl: Ctl, method: str) -> int:
    """How often the app called a REST method since the last reset, batched or not."""
    counts = ctl("GET", "requests")
    return counts["requests"].get(method, 0) + counts["batch_commands"].get(method, 0)


def comments_of(ctl: Ctl, payment_id: str) -> list[dict[str, Any]]:
    """The timeline comments that name the payment."""
    return [c for c in ctl("GET", "crm")["comments"] if payment_id in c["COMMENT"]]


def one_comment_each(ctl: Ctl, payment_id: str) -> list[str]:
    """Assert the payment was commented once per owner; return the owners (deal, invoice)."""
    owners = [f"{c['ENTITY_TYPE']}:{c['ENTITY_ID']}" for c in comments_of(ctl, payment_id)]
    assert owners and len(owners) == len(set(owners)), owners
    return owners


def invoice_paid(ctl: Ctl, invoice_id: int) -> bool:
    """True when the invoice has a paid payment and sits in its success stage."""
    crm = ctl("GET", "crm")
    item = next(i for i in crm["invoices"] if int(i["id"]) == invoice_id)
    paid = [p for p in crm["payments"] if int(p.get("entityId", 0)) == invoice_id]
    return bool(paid) and all(p["paid"] == "Y" for p in paid) and item["stageId"].endswith(":P")


def charges(pinpads: Any, txn_ref: str | None = None) -> list[dict[str, Any]]:
    """The simulator's ledger: purchases, of one TxnRef when given."""
    return [
        e
        for e in ledger(pinpads)
        if e["txnType"] == "P" and (txn_ref is None or e["txnRef"] == txn_ref)
    ]


def refunds(pinpads: Any) -> list[dict[str, Any]]:
    """The simulator's ledger: refunds."""
    return [e for e in ledger(pinpads) if e["txnType"] == "R"]


def transaction_posts(pinpads: Any) -> list[dict[str, Any]]:
    """Every transaction session Linkly received (one per POST)."""
    with LinklyControl(pinpads.base_url) as control:
        return [r for r in control.sessions() if r["op"] == "transaction"]


def linkly(pinpads: Any, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    """Call the Linkly simulator's control API; an HTTP error fails the test (ControlError)."""
    with LinklyControl(pinpads.base_url) as control:
        return control.call(method, path, body)


def fault(pinpads: Any, name: str, **spec: Any) -> int:
    """Arm a Linkly fault (scope `next` unless told); return its id."""
    return int(linkly(pinpads, "POST", "faults", {"fault": name, **spec})["id"])


def settled(app: Any, payment_id: str, timeout: float = 20.0) -> Any:
    """Wait until the payment is final and its report has landed."""

    def done() -> Any:
        payment = payment_of(app, id=payment_id)
        return payment if payment.is_final and payment.report_state == "done" else None

    return wait_for(done, timeout, f"payment {payment_id} to be final and reported")


def quiet(seconds: float) -> None:
    """Give stray retries, sweeps and late events time to do damage (if they would)."""
    time.sleep(seconds)
