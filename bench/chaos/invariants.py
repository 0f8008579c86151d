"""The campaign's promises, checked from the Linkly ledger, the Bitrix24 portal and our database."""

from __future__ import annotations

from collections import Counter, defaultdict
from decimal import Decimal
from typing import Any

from bench.shop import Planned, Sim

FINAL = ("approved", "declined", "cancelled", "failed")
STATUSES = {*FINAL, "unknown", "error"}


def returns(wf: dict[str, Any]) -> dict[str, Any]:
    """A workflow's return values, lower-cased keys."""
    return {k.lower(): v for step in wf.get("returns", {}).values() for k, v in step.items()}


def _sid(value: str | None) -> str:
    return (value or "").replace("-", "").lower()


def db_payments(app: Any) -> dict[str, dict[str, Any]]:
    """Every payment row, as plain values."""
    from sqlalchemy import select

    from bizproc_app.extensions import db
    from bizproc_app.models import Payment

    cols = ("kind", "state", "source", "session_id", "txn_ref", "amount_cents", "deal_id",
            "invoice_id", "original_id", "report_state", "reported_status", "deadline_at",
            "finished_at", "result")  # fmt: skip
    with app.app_context():
        rows = {p.id: {c: getattr(p, c) for c in cols} for p in db.session.scalars(select(Payment))}
    return rows


def payments_by_workflow(app: Any) -> dict[str, list[str]]:
    """The payments each workflow's handler call created."""
    from sqlalchemy import select

    from bizproc_app.extensions import db
    from bizproc_app.models import HandlerCall, Payment

    stmt = select(HandlerCall.workflow_id, Payment.id).join(
        Payment, Payment.handler_call_id == HandlerCall.id
    )
    out: dict[str, list[str]] = defaultdict(list)
    with app.app_context():
        for workflow_id, payment_id in db.session.execute(stmt):
            out[workflow_id].append(payment_id)
    return dict(out)


def collect(sim: Sim, app: Any) -> dict[str, Any]:
    """Everything the checks read, taken once after the campaign settled."""
    return {
        "ledger": sim.lk("GET", "ledger", timeout=120)["entries"],
        "workflows": sim.b24("GET", "workflows", timeout=120),
        "crm": sim.b24("GET", "crm", timeout=120),
        "notifications": sim.b24("GET", "notifications", timeout=120),
        "payments": db_payments(app),
        "by_workflow": payments_by_workflow(app),
    }


def entry_counts(entries: list[Planned], refunds: list[Planned]) -> dict[str, int]:
    """How many purchases entered by robot and by screen, and refunds by robot."""
    c = Counter(f"purchase by {p.entry}" for p in entries)
    c["refund by robot"] = len(refunds)
    return dict(c)


Violations = dict[str, list[str]]


def check(facts: dict[str, Any], robots: list[Planned], ui: dict[int, str]) -> dict[str, Any]:
    """Violations of every invariant (each a list of plain sentences) and the counts behind them."""
    payments = facts["payments"]
    by_session = {_sid(p["session_id"]): pid for pid, p in payments.items() if p["session_id"]}
    flows = {w["id"]: w for w in facts["workflows"]}
    v: Violations = defaultdict(list)
    _check_charges(facts["ledger"], payments, by_session, v)
    _check_final_and_reported(facts["ledger"], payments, by_session, v)
    refunded = {p["original_id"] for p in payments.values()
                if p["kind"] == "refund" and p["state"] == "approved"}  # fmt: skip
    _check_invoices_paid_once(payments, refunded, v)
    _check_recorded_in_bitrix24(facts["crm"], payments, refunded, v)
    told_unknown = _check_workflows(facts, flows, robots, v)
    for index, pid in ui.items():
        if pid not in payments:
            v["screen payment missing"].append(f"entry {index}: {pid}")
    counts = {
        "payments": len(payments),
        "approved": sum(p["state"] == "approved" for p in payments.values()),
        "ledger entries": len(facts["ledger"]),
        "workflows": len(robots),
        "workflow outcomes": dict(
            Counter(returns(flows.get(r.workflow_id, {})).get("status") for r in robots)
        ),
        "told unknown, then resolved": told_unknown,
    }
    return {"counts": counts, "violations": {k: sorted(x) for k, x in v.items()}}


def _check_charges(
    ledger: list[dict[str, Any]],
    payments: dict[str, Any],
    by_session: dict[str, str],
    v: Violations,
) -> None:
    """1. Charged at most once; every charge traceable to one payment, with its amount and kind."""
    charges = Counter(_sid(e["sessionId"]) for e in ledger)
    refs = Counter(e["txnRef"] for e in ledger)
    for sid, n in charges.items():
        if n > 1:
            v["charged more than once"].append(f"session {sid} in the ledger {n} times")
    for ref, n in refs.items():
        if n > 1:
            v["charged more than once"].append(f"TxnRef {ref} in the ledger {n} times")
    for e in ledger:
        pid = by_session.get(_sid(e["sessionId"]))
        kind = "refund" if e["txnType"] == "R" else "purchase"
        if pid is None:
            v["charge without a payment"].append(f"ledger session {e['sessionId']}")
        elif payments[pid]["amount_cents"] != e["amountCents"] or payments[pid]["kind"] != kind:
            v["charge without a payment"].append(f"{pid}: ledger {kind} {e['amountCents']}")


def _check_final_and_reported(
    ledger: list[dict[str, Any]],
    payments: dict[str, Any],
    by_session: dict[str, str],
    v: Violations,
) -> None:
    """2. Approved exactly when charged; every payment final and reported."""
    charged = {by_session.get(_sid(e["sessionId"])) for e in ledger}
    for pid, p in payments.items():
        if p["state"] not in FINAL:
            v["payment without a final state"].append(f"{pid} is {p['state']}")
        elif (p["state"] == "approved") != (pid in charged):
            v["approval lost or invented"].append(f"{pid}: {p['state']}, charged {pid in charged}")
        if p["report_state"] == "pending":
            v["report not delivered"].append(pid)
        if (p["result"] or {}).get("response_code") == "BY":  # no campaign fault makes a pad busy
            v["PIN pad shared"].append(f"{pid}: Linkly answered PINPAD BUSY")


def _check_invoices_paid_once(
    payments: dict[str, Any], refunded: set[str | None], v: Violations
) -> None:
    """2b. No invoice paid twice: at most one approved purchase per invoice that is not refunded."""
    kept = Counter(
        p["invoice_id"] for pid, p in payments.items()
        if p["kind"] == "purchase" and p["state"] == "approved" and p["invoice_id"]
        and pid not in refunded
    )  # fmt: skip
    for invoice_id, n in kept.items():
        if n > 1:
            v["invoice paid twice"].append(f"invoice {invoice_id}: {n} approved purchases")


def _check_recorded_in_bitrix24(
    crm: dict[str, Any], payments: dict[str, Any], refunded: set[str | None], v: Violations
) -> None:
    """3. Every approved charge recorded in Bitrix24 once: paid flag, stage, one comment each."""
    invoices = {i["id"]: i for i in crm["invoices"]}
    paid = Counter(p["entityId"] for p in crm["payments"] if p.get("paid") == "Y")
    for pid, p in payments.items():
        if p["state"] not in FINAL or p["report_state"] != "done":
            continue
        _check_comments(crm["comments"], pid, p, v)
        if p["kind"] == "purchase" and p["state"] == "approved" and p["invoice_id"]:
            want = 0 if pid in refunded else 1
            if paid[p["invoice_id"]] != want:
                v["paid flag wrong"].append(
                    f"invoice {p['invoice_id']}: {paid[p['invoice_id']]} paid, want {want}"
                )
            inv = invoices.get(p["invoice_id"], {})
            if inv.get("stageSemanticId") != "S":
                v["stage not moved"].append(f"invoice {p['invoice_id']}: {inv.get('stageId')}")
            _check_paid_sum(crm["payments"], p, v)


def _check_comments(
    comments: list[dict[str, Any]], pid: str, p: dict[str, Any], v: Violations
) -> None:
    """One comment naming the payment on its deal and on its invoice."""
    for entity, owner in (("deal", p["deal_id"]), ("smart_invoice", p["invoice_id"])):
        n = sum(1 for c in comments
                if c["ENTITY_TYPE"] == entity and c["ENTITY_ID"] == str(owner)
                and pid in c["COMMENT"])  # fmt: skip
        if owner and n != 1:
            v["comment not written once"].append(f"{pid}: {n} on {entity} {owner}")


def _check_paid_sum(
    bitrix_payments: list[dict[str, Any]], p: dict[str, Any], v: Violations
) -> None:
    """A paid payment of the invoice carries exactly the charge (issue 14)."""
    for bp in bitrix_payments:
        cents = round(Decimal(str(bp["sum"])) * 100)
        if bp["entityId"] == p["invoice_id"] and bp["paid"] == "Y" and cents != p["amount_cents"]:
            v["paid payment of another sum"].append(
                f"invoice {p['invoice_id']}: payment {bp['id']} of {cents} cents, "
                f"charged {p['amount_cents']}"
            )


def _check_workflows(
    facts: dict[str, Any], flows: dict[str, Any], robots: list[Planned], v: Violations
) -> int:
    """4. Every workflow got exactly one outcome, consistent with the payment; unknown resolved.

    Returns how many workflows were told unknown (each then checked resolved).
    """
    payments = facts["payments"]
    told_unknown = 0
    for r in robots:
        wf = flows.get(r.workflow_id)
        if wf is None or wf["status"] == "running":
            v["workflow without an outcome"].append(r.workflow_id)
            continue
        events = [line for line in wf.get("log", []) if line.get("kind") == "event"]
        values = returns(wf)
        status, pid = values.get("status"), values.get("payment_id")
        made = facts["by_workflow"].get(r.workflow_id, [])
        if len(events) != 1 or status not in STATUSES:
            v["workflow without exactly one outcome"].append(f"{r.workflow_id}: {len(events)}")
        elif made != ([pid] if status != "error" else []):
            v["workflow told something else"].append(
                f"{r.workflow_id}: told {status} {pid}, its call made payments {made}"
            )
        elif status == "unknown":
            told_unknown += 1
            _check_resolved(pid, payments, facts, v)
        elif status != "error" and (pid not in payments or payments[pid]["state"] != status):
            got = payments.get(pid, {}).get("state")
            v["workflow told something else"].append(f"{r.workflow_id}: {status}, payment {got}")
    return told_unknown


def races(app: Any) -> dict[str, int]:
    """How often each race happened, from the journal: endings that lost, limits reached."""
    from sqlalchemy import select

    from bizproc_app.extensions import db
    from bizproc_app.models import JournalEntry

    out: Counter[str] = Counter()
    with app.app_context():
        stmt = select(JournalEntry.kind, JournalEntry.detail).where(
            JournalEntry.kind.in_(("payment.transition_lost", "payment.final"))
        )
        for kind, detail in db.session.execute(stmt):
            event = (detail or {}).get("event")
            if kind == "payment.transition_lost":
                out[f"lost race: {event} (changed nothing)"] += 1
            elif event in ("busy_timeout", "expired", "cancel_queued"):
                out[f"ended by {event} (never sent)"] += 1
    return dict(sorted(out.items()))


def _check_resolved(
    pid: str | None, payments: dict[str, Any], facts: dict[str, Any], v: dict[str, list[str]]
) -> None:
    """An unknown told to a workflow must end final, in the CRM, and be told to people."""
    p = payments.get(pid or "")
    if p is None or p["state"] not in FINAL:
        v["unknown never resolved"].append(str(pid))
        return
    if p["finished_at"] and p["deadline_at"] and _utc(p["finished_at"]) <= _utc(p["deadline_at"]):
        v["unknown although known by the deadline"].append(str(pid))
    told = [n for n in facts["notifications"]
            if pid in n["message"] and "now known" in n["message"]]  # fmt: skip
    if not told:
        v["late result not told to people"].append(str(pid))


def _utc(value: Any) -> Any:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    from datetime import UTC

    return value.replace(tzinfo=UTC) if value.tzinfo is None else value
