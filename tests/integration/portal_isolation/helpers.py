"""What the portal-isolation tests share: portal B's rows, snapshots, refusals and forms."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from bizproc_app.extensions import db
from bizproc_app.models import (
    HandlerCall,
    JournalEntry,
    Payment,
    Portal,
    RefundGrant,
    Terminal,
    TerminalUser,
)
from bizproc_app.payments.pipeline import notify_hash
from simulators.bitrix24 import Bitrix24Simulator
from tests.bitrix_fixtures import frame_token
from tests.helpers.bitrix24 import b24_ctl

B_NOTIFY_SECRET = "notify-secret-of-portal-b-payment"
B_SESSION = "1" * 32
COUNTED = {
    "payments": Payment,
    "terminals": Terminal,
    "journal": JournalEntry,
    "calls": HandlerCall,
}


def new_deal(sim: Bitrix24Simulator, title: str) -> tuple[int, int]:
    """A deal with one unpaid AUD invoice; returns (deal id, invoice id)."""
    deal = b24_ctl(
        sim, "POST", "deals", {"fields": {"title": title, "opportunity": 30, "currencyId": "AUD"}}
    )
    deal_id = int(deal.get("id") or deal.get("ID"))
    invoice = b24_ctl(
        sim,
        "POST",
        "invoices",
        {
            "fields": {"title": f"{title} bill", "opportunity": 30, "currencyId": "AUD"},
            "deal_id": deal_id,
        },
    )
    return deal_id, int(invoice.get("id") or invoice.get("ID"))


def add_b_payments(
    portal_id: int, terminal_id: int, paid: tuple[int, int], open_: tuple[int, int]
) -> dict[str, Any]:
    """B's approved purchase (refundable) and B's running payment, plus a refund grant."""
    (paid_deal, paid_invoice), (running_deal, running_invoice) = paid, open_
    approved = Payment(
        portal_id=portal_id,
        terminal_id=terminal_id,
        kind="purchase",
        amount_cents=3000,
        currency="AUD",
        state="approved",
        source="ui",
        requested_by=1,
        deal_id=paid_deal,
        invoice_id=paid_invoice,
        invoice_lock=f"{portal_id}:invoice:{paid_invoice}",
        session_id="2" * 32,
        txn_ref="BREF000000000002",
        rfn="B-RFN-0002",
        result={"response_code": "00", "response_text": "APPROVED"},
    )
    running = Payment(
        portal_id=portal_id,
        terminal_id=terminal_id,
        kind="purchase",
        amount_cents=3000,
        currency="AUD",
        state="in_progress",
        source="ui",
        requested_by=1,
        deal_id=running_deal,
        invoice_id=running_invoice,
        invoice_lock=f"{portal_id}:invoice:{running_invoice}",
        session_id=B_SESSION,
        txn_ref="BREF000000000001",
        notify_hash=notify_hash(B_NOTIFY_SECRET),
        display={"lines": ["PRESENT CARD"], "cancel": True, "yes": True, "no": True, "ok": True},
    )
    db.session.add_all([approved, running, RefundGrant(portal_id=portal_id, user_id=7)])
    db.session.commit()
    return {"approved": approved.id, "running": running.id}


def rows_of(model: type, where: Any) -> list[dict[str, Any]]:
    """Every column of the matching rows, in a stable order."""
    cols = [c.name for c in model.__table__.columns]
    found = db.session.execute(select(model.__table__).where(where)).mappings().all()
    return sorted(({c: row[c] for c in cols} for row in found), key=repr)


def snapshot(app, portal_b: int) -> dict[str, Any]:
    """Row counts of the guarded tables, and every row that belongs to portal B."""
    with app.app_context():
        db.session.expire_all()
        terminal_ids = select(Terminal.id).where(Terminal.portal_id == portal_b)
        return {
            "counts": {
                name: db.session.scalar(select(func.count()).select_from(model))
                for name, model in COUNTED.items()
            },
            "b": {
                "portal": rows_of(Portal, Portal.id == portal_b),
                "terminals": rows_of(Terminal, Terminal.portal_id == portal_b),
                "terminal_users": rows_of(TerminalUser, TerminalUser.terminal_id.in_(terminal_ids)),
                "refund_grants": rows_of(RefundGrant, RefundGrant.portal_id == portal_b),
                "payments": rows_of(Payment, Payment.portal_id == portal_b),
                "calls": rows_of(HandlerCall, HandlerCall.portal_id == portal_b),
                "journal": rows_of(JournalEntry, JournalEntry.portal_id == portal_b),
            },
        }


def crm_of(sim: Bitrix24Simulator) -> dict[str, int]:
    """How many CRM documents and payments a simulated portal holds."""
    crm = b24_ctl(sim, "GET", "crm")
    return {k: len(crm[k]) for k in ("deals", "invoices", "payments", "comments")}


def b_untouched(sim_b: Bitrix24Simulator) -> None:
    """Portal B's Bitrix24 was never called (the fixture reset its counters)."""
    seen = b24_ctl(sim_b, "GET", "requests")
    assert not seen["requests"] and not seen["batch_commands"], seen


def refused(resp, status: int, *words: str) -> dict[str, Any]:
    """The status, and a JSON error whose message names the problem."""
    assert resp.status_code == status, (resp.status_code, resp.get_data(as_text=True)[:300])
    body = resp.get_json()
    assert isinstance(body, dict) and isinstance(body.get("error"), str), body
    text = " ".join([body["error"], repr(body.get("errors", ""))]).lower()
    assert all(w.lower() in text for w in words), body
    return body


def bearer(app, card: tuple[str, int] | None = None) -> dict[str, str]:
    """The Authorization header of A's administrator, in a frame opened on that card of A's
    portal (by default fuzz_app's deal): a number of B's is only a number in A's portal."""
    if card is None:
        return {"Authorization": f"Bearer {app.config['FUZZ']['token_a']}"}
    fuzz = app.config["FUZZ"]
    with app.app_context():
        portal = db.session.scalar(select(Portal).where(Portal.member_id == fuzz["member"]))
        portal_id = portal.id
    token = frame_token(app, fuzz["control"], portal_id, 1, admin=True, entity=card)
    return {"Authorization": f"Bearer {token}"}


def robot_form(member_id: str, token: str, deal_id: int, **properties: Any) -> dict[str, str]:
    """A robot call as Bitrix24 form-encodes it."""
    code = "linkly_pos_refund" if "payment_id" in properties else "linkly_pos_payment"
    return {
        "workflow_id": "A" + "1" * 22,
        "code": code,
        "document_id[0]": "crm",
        "document_id[1]": "CCrmDocumentDeal",
        "document_id[2]": f"DEAL_{deal_id}",
        "document_type[0]": "crm",
        "document_type[1]": "CCrmDocumentDeal",
        "document_type[2]": "DEAL",
        "event_token": f"wf|A{'1' * 22}|event.{'f' * 16}",
        **{f"properties[{k}]": str(v) for k, v in properties.items()},
        "auth[member_id]": member_id,
        "auth[application_token]": token,
        "auth[domain]": "127.0.0.1",
    }


def transaction_event(session_id: str, txn_ref: str) -> dict[str, Any]:
    """An approved transaction event."""
    return {
        "SessionId": session_id,
        "ResponseType": "transaction",
        "Response": {"Success": True, "ResponseCode": "00", "TxnRef": txn_ref},
    }


def lifecycle_form(event: str, member_id: str, app_token: str, issued: dict) -> dict[str, str]:
    """An ONAPP* event as Bitrix24 form-encodes it, with the given portal's genuine tokens."""
    return {
        "event": event,
        "ts": "1700000000",
        "auth[member_id]": member_id,
        "auth[application_token]": app_token,
        "auth[domain]": issued["domain"],
        "auth[access_token]": issued["access_token"],
        "auth[refresh_token]": issued["refresh_token"],
        "auth[expires_in]": "3600",
        "auth[scope]": "crm,bizproc,placement,user_brief,im",
        "auth[status]": "L",
    }
