"""Portal isolation: a user, robot or PIN pad event of portal A reads and changes nothing of B.

Portal A is `fuzz_app`'s portal (its Bitrix24 is the `b24` simulator); portal B gets a Bitrix24
simulator of its own, so a CRM read that went to the wrong portal would show. Every refusal is
checked three ways: the status, the JSON error, and a snapshot of the database (row counts, and
every row of B) that must not move. B's simulator must not even be called.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from sqlalchemy import func, select

from bizproc_app.extensions import db, secrets
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
from bizproc_app.payments.queues import QUEUE_NAMES, queue
from bizproc_app.web.frame_session import FrameUser, issue
from simulators.bitrix24 import Bitrix24Simulator, SimConfig
from tests.bitrix_fixtures import CLIENT_ID, CLIENT_SECRET, frame_token
from tests.fuzz.conftest import APP_TOKEN, NOTIFY_SECRET, OTHER_TOKEN, fuzz_app

__all__ = ["fuzz_app"]  # the two-portal fixture, reused as is

B_NOTIFY_SECRET = "notify-secret-of-portal-b-payment"
B_SESSION = "1" * 32
COUNTED = {
    "payments": Payment,
    "terminals": Terminal,
    "journal": JournalEntry,
    "calls": HandlerCall,
}


def _sim(sim: Bitrix24Simulator, method: str, path: str, body: dict | None = None) -> Any:
    resp = requests.request(
        method, f"{sim.urls['control'].rstrip('/')}/{path}", json=body, timeout=30
    )
    assert resp.status_code < 500, resp.text
    return resp.json()


def _new_deal(sim: Bitrix24Simulator, title: str) -> tuple[int, int]:
    """A deal with one unpaid AUD invoice; returns (deal id, invoice id)."""
    deal = _sim(
        sim, "POST", "deals", {"fields": {"title": title, "opportunity": 30, "currencyId": "AUD"}}
    )
    deal_id = int(deal.get("id") or deal.get("ID"))
    invoice = _sim(
        sim,
        "POST",
        "invoices",
        {
            "fields": {"title": f"{title} bill", "opportunity": 30, "currencyId": "AUD"},
            "deal_id": deal_id,
        },
    )
    return deal_id, int(invoice.get("id") or invoice.get("ID"))


@pytest.fixture
def b24_b() -> Iterator[Bitrix24Simulator]:
    """Portal B's own Bitrix24 (same app, another portal)."""
    sim = Bitrix24Simulator(
        SimConfig(app_url="http://127.0.0.1:9", client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    )
    sim.urls = sim.start("127.0.0.1", port=0)
    yield sim
    sim.stop()


def _b_rows(
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


@pytest.fixture
def portals(fuzz_app, b24, b24_b) -> dict[str, Any]:
    """fuzz_app's portals A and B, B moved to its own Bitrix24, with CRM documents and payments."""
    deal_a, invoice_a = _new_deal(b24, "A lunch")
    # B has more documents than A, so its last ids exist nowhere in A's portal.
    b_docs = [_new_deal(b24_b, f"B deal {n}") for n in range(3)]
    issued = _sim(b24_b, "POST", "token", {"user_id": 1})
    order = requests.post(
        f"{issued['client_endpoint']}crm.item.payment.add.json",
        json={"entityTypeId": 2, "entityId": b_docs[-1][0], "auth": issued["access_token"]},
        timeout=30,
    ).json()["result"]
    with fuzz_app.app_context():
        portal_b = db.session.scalar(select(Portal).where(Portal.member_id == "b" * 32))
        portal_b.member_id = issued["member_id"]
        portal_b.domain = issued["domain"]
        portal_b.client_endpoint = issued["client_endpoint"]
        portal_b.set_tokens(
            secrets.box, access=issued["access_token"], refresh=issued["refresh_token"]
        )
        terminal_b = db.session.scalar(select(Terminal).where(Terminal.portal_id == portal_b.id))
        terminal_a = db.session.scalar(select(Terminal).where(Terminal.portal_id != portal_b.id))
        db.session.commit()
        ids = {
            "a": {
                "portal_id": terminal_a.portal_id,
                "member_id": fuzz_app.config["FUZZ"]["member"],
                "terminal_id": terminal_a.id,
                "payment_id": fuzz_app.config["FUZZ"]["payment_id"],
                "deal_id": deal_a,
                "invoice_id": invoice_a,
            },
            "b": {
                "portal_id": portal_b.id,
                "member_id": portal_b.member_id,
                "terminal_id": terminal_b.id,
                # Paid: a number A's portal uses too; running: a number only B's portal has.
                "deal_id": b_docs[-1][0],
                "invoice_id": b_docs[-1][1],
                "shared_invoice_id": b_docs[0][1],
                "order_payment_id": int(order),
                **_b_rows(portal_b.id, terminal_b.id, b_docs[0], b_docs[-1]),
            },
        }
    assert ids["b"]["deal_id"] > deal_a and ids["b"]["invoice_id"] > invoice_a
    assert ids["b"]["shared_invoice_id"] == invoice_a  # the same number in both portals
    _sim(b24_b, "DELETE", "requests")
    return ids


def _rows(model: type, where: Any) -> list[dict[str, Any]]:
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
                "portal": _rows(Portal, Portal.id == portal_b),
                "terminals": _rows(Terminal, Terminal.portal_id == portal_b),
                "terminal_users": _rows(TerminalUser, TerminalUser.terminal_id.in_(terminal_ids)),
                "refund_grants": _rows(RefundGrant, RefundGrant.portal_id == portal_b),
                "payments": _rows(Payment, Payment.portal_id == portal_b),
                "calls": _rows(HandlerCall, HandlerCall.portal_id == portal_b),
                "journal": _rows(JournalEntry, JournalEntry.portal_id == portal_b),
            },
        }


def crm_of(sim: Bitrix24Simulator) -> dict[str, int]:
    """How many CRM documents and payments a simulated portal holds."""
    crm = _sim(sim, "GET", "crm")
    return {k: len(crm[k]) for k in ("deals", "invoices", "payments", "comments")}


def b_untouched(sim_b: Bitrix24Simulator) -> None:
    """Portal B's Bitrix24 was never called (the fixture reset its counters)."""
    seen = _sim(sim_b, "GET", "requests")
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


# The payment screen's API (/api/...) with A's admin frame token.


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/api/payments/{pid}", None),
        ("post", "/api/payments/{pid}/cancel", None),
        ("post", "/api/payments/{pid}/keys", {"key": "yes"}),
        ("post", "/api/payments/{paid}/refunds", {}),
        ("post", "/api/payments/{paid}/refunds", {"amount": "1.00"}),
        ("post", "/api/attention/{pid}/resolve", {"as": "declined", "reason": "receipt"}),
        ("post", "/api/attention/{pid}/release", None),
    ],
)
def test_a_cannot_read_cancel_press_or_refund_b_payments(
    fuzz_app, portals, b24_b, method, path, body
) -> None:
    b = portals["b"]
    before = snapshot(fuzz_app, b["portal_id"])
    url = path.format(pid=b["running"], paid=b["approved"])
    resp = getattr(fuzz_app.test_client(), method)(url, json=body, headers=bearer(fuzz_app))
    refused(resp, 404, "no such payment")
    assert snapshot(fuzz_app, b["portal_id"]) == before
    b_untouched(b24_b)


def test_a_cannot_read_b_invoice(fuzz_app, portals, b24_b) -> None:
    b = portals["b"]
    before = snapshot(fuzz_app, b["portal_id"])
    card = bearer(fuzz_app, ("invoice", b["invoice_id"]))
    resp = fuzz_app.test_client().get(f"/api/invoices/{b['invoice_id']}", headers=card)
    refused(resp, 404, "could not read the invoice")
    assert snapshot(fuzz_app, b["portal_id"]) == before
    b_untouched(b24_b)


def test_a_reading_b_deal_gets_an_empty_document(fuzz_app, portals, b24_b) -> None:
    # The deal is read in A's own Bitrix24, where that id does not exist. The app answers 200
    # with `deal: null` (not a 404 like an unknown invoice): nothing of B's is in it.
    b = portals["b"]
    before = snapshot(fuzz_app, b["portal_id"])
    card = bearer(fuzz_app, ("deal", b["deal_id"]))
    resp = fuzz_app.test_client().get(f"/api/deals/{b['deal_id']}", headers=card)
    assert resp.status_code == 200
    assert resp.get_json() == {"deal": None, "history": [], "invoices": [], "order_payments": []}
    assert snapshot(fuzz_app, b["portal_id"]) == before
    b_untouched(b24_b)


@pytest.mark.parametrize("kind", ["deals", "invoices"])
def test_b_payment_on_the_same_crm_number_stays_out_of_a_document(
    fuzz_app, portals, b24_b, kind
) -> None:
    # CRM ids are per portal: B's paid invoice has the number of A's unpaid one.
    a, b = portals["a"], portals["b"]
    before = snapshot(fuzz_app, b["portal_id"])
    number = a["deal_id"] if kind == "deals" else a["invoice_id"]
    card = bearer(fuzz_app, (kind[:-1], number))
    resp = fuzz_app.test_client().get(f"/api/{kind}/{number}", headers=card)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    doc = resp.get_json()
    assert doc["deal"]["title"] == "A lunch" and doc["history"] == []
    (row,) = doc["invoices"]
    assert row["id"] == b["shared_invoice_id"] and row["status"] == "unpaid"
    assert row["payment"] is None and row["refundable"] is None
    assert b["approved"] not in resp.get_data(as_text=True)
    assert snapshot(fuzz_app, b["portal_id"]) == before
    b_untouched(b24_b)


def test_a_terminal_list_and_settings_show_only_a_terminals(fuzz_app, portals, b24_b) -> None:
    a, b = portals["a"], portals["b"]
    before = snapshot(fuzz_app, b["portal_id"])
    client = fuzz_app.test_client()
    listed = client.get("/api/terminals", headers=bearer(fuzz_app))
    assert listed.status_code == 200
    assert [t["id"] for t in listed.get_json()["terminals"]] == [a["terminal_id"]]
    settings = client.get("/api/settings", headers=bearer(fuzz_app))
    assert settings.status_code == 200
    assert [t["id"] for t in settings.get_json()["terminals"]] == [a["terminal_id"]]
    assert settings.get_json()["refund_users"] == []  # B's grant to user 7 is B's
    assert snapshot(fuzz_app, b["portal_id"]) == before
    b_untouched(b24_b)


def test_a_cannot_pay_on_b_terminal(fuzz_app, portals, b24_b) -> None:
    a, b = portals["a"], portals["b"]
    before = snapshot(fuzz_app, b["portal_id"])
    resp = fuzz_app.test_client().post(
        "/api/payments",
        json={
            "target": {"kind": "invoice", "id": a["invoice_id"]},
            "terminal_id": b["terminal_id"],
        },
        headers=bearer(fuzz_app, ("deal", a["deal_id"])),
    )
    body = refused(resp, 409, f"unknown terminal {b['terminal_id']}")
    assert set(body["errors"]) == {"terminal"}
    assert snapshot(fuzz_app, b["portal_id"]) == before
    b_untouched(b24_b)


@pytest.mark.parametrize(
    ("kind", "key", "status", "problem"),
    [
        ("invoice", "invoice_id", 404, "could not read the invoice"),
        ("order_payment", "order_payment_id", 403, "belongs to another deal or invoice"),
    ],
)
def test_a_cannot_pay_b_invoice_or_order_payment(
    fuzz_app, portals, b24_b, kind, key, status, problem
) -> None:
    # The document is read in A's own Bitrix24, where B's number does not exist (an order
    # payment is looked for among the card's own, in A's portal).
    a, b = portals["a"], portals["b"]
    before = snapshot(fuzz_app, b["portal_id"])
    resp = fuzz_app.test_client().post(
        "/api/payments",
        json={"target": {"kind": kind, "id": b[key]}, "terminal_id": a["terminal_id"]},
        headers=bearer(fuzz_app, ("deal", a["deal_id"])),
    )
    refused(resp, status, problem)
    assert snapshot(fuzz_app, b["portal_id"]) == before
    b_untouched(b24_b)


def test_a_cannot_add_an_invoice_to_b_deal(fuzz_app, portals, b24, b24_b) -> None:
    b = portals["b"]
    before, crm_a, crm_b = snapshot(fuzz_app, b["portal_id"]), crm_of(b24), crm_of(b24_b)
    _sim(b24_b, "DELETE", "requests")
    resp = fuzz_app.test_client().post(
        f"/api/deals/{b['deal_id']}/invoices",
        json={"title": "Sneaky", "amount": "5.00"},
        headers=bearer(fuzz_app, ("deal", b["deal_id"])),
    )
    refused(resp, 404, "no such deal")
    assert snapshot(fuzz_app, b["portal_id"]) == before
    assert crm_of(b24) == crm_a
    b_untouched(b24_b)
    assert crm_of(b24_b) == crm_b


# The settings API, as A's administrator.


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("put", "", {"users": [5, 6]}),
        ("put", "", {"shared": False}),
        ("post", "/test", None),
        ("delete", "", None),
    ],
)
def test_a_admin_cannot_assign_test_or_remove_b_terminal(
    fuzz_app, portals, b24_b, method, suffix, body
) -> None:
    b = portals["b"]
    before = snapshot(fuzz_app, b["portal_id"])
    resp = getattr(fuzz_app.test_client(), method)(
        f"/api/terminals/{b['terminal_id']}{suffix}", json=body, headers=bearer(fuzz_app)
    )
    refused(resp, 404, "no such terminal")
    assert snapshot(fuzz_app, b["portal_id"]) == before
    b_untouched(b24_b)


@pytest.mark.parametrize(
    "extra",
    [
        {"portal_id": "{portal}"},
        {"terminal_id": "{terminal}"},
        {"member_id": "{member}"},
    ],
)
def test_a_admin_cannot_aim_a_pairing_at_b(fuzz_app, portals, b24_b, extra) -> None:
    # Pairing takes no terminal id: it always creates a terminal in the caller's portal. A body
    # that names B's portal, terminal or member id is refused before Linkly is asked anything.
    b = portals["b"]
    before = snapshot(fuzz_app, b["portal_id"])
    ((key, value),) = extra.items()
    value = value.format(portal=b["portal_id"], terminal=b["terminal_id"], member=b["member_id"])
    form = {
        "name": "Tb",
        "username": "shop",
        "password": "shop-pass",
        "pair_code": "111111",
        key: value,
    }
    resp = fuzz_app.test_client().post("/api/terminals/pair", json=form, headers=bearer(fuzz_app))
    body = refused(resp, 400, "correct the highlighted fields", "unknown field")
    assert set(body["errors"]) == {key}
    assert snapshot(fuzz_app, b["portal_id"]) == before
    b_untouched(b24_b)


def test_a_admin_replacing_refund_users_leaves_b_grants(fuzz_app, portals, b24_b) -> None:
    # A legitimate change of A's own list (200): it deletes and re-adds A's grants only.
    b = portals["b"]
    before = snapshot(fuzz_app, b["portal_id"])
    resp = fuzz_app.test_client().put(
        "/api/refund-users", json={"users": [2]}, headers=bearer(fuzz_app)
    )
    assert resp.status_code == 200 and resp.get_json() == {"refund_users": [2]}
    after = snapshot(fuzz_app, b["portal_id"])
    assert after["b"] == before["b"]
    assert after["b"]["refund_grants"] == [{"portal_id": b["portal_id"], "user_id": 7}]
    assert {k: v for k, v in after["counts"].items() if k != "journal"} == {
        k: v for k, v in before["counts"].items() if k != "journal"
    }
    b_untouched(b24_b)


def test_a_frame_token_cannot_be_replayed_as_b(fuzz_app, portals, b24_b) -> None:
    # The portal comes from the signed token only; a token whose payload names B but was not
    # signed by us (here: A's token with its payload swapped) is refused.
    b = portals["b"]
    with fuzz_app.app_context():
        real_b = issue(FrameUser(b["portal_id"], 1, "Admin", True))
    a_token = fuzz_app.config["FUZZ"]["token_a"]
    forged = ".".join([real_b.split(".")[0], *a_token.split(".")[1:]])
    before = snapshot(fuzz_app, b["portal_id"])
    resp = fuzz_app.test_client().get(
        f"/api/payments/{b['running']}", headers={"Authorization": f"Bearer {forged}"}
    )
    refused(resp, 401, "session has expired")
    assert snapshot(fuzz_app, b["portal_id"]) == before


# The robot handler: the application token must be the portal's own.


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


def queued_jobs(redis_client) -> int:
    """Jobs waiting on every queue."""
    return sum(queue(name, redis_client).count for name in QUEUE_NAMES)


@pytest.mark.parametrize(
    ("caller", "target", "props"),
    [
        # A's application token, B's member id and documents.
        ("a", "b", {"terminal": "{b_terminal}", "invoice_id": "{b_invoice}"}),
        ("a", "b", {"payment_id": "{b_paid}"}),
        # B's application token, A's member id and documents.
        ("b", "a", {"terminal": "{a_terminal}", "amount": "10.00"}),
        ("b", "a", {"payment_id": "{a_payment}"}),
    ],
)
def test_robot_call_with_the_other_portal_token_is_refused(
    fuzz_app, portals, b24_b, redis_client, caller, target, props
) -> None:
    a, b = portals["a"], portals["b"]
    names = {
        "b_terminal": b["terminal_id"],
        "b_invoice": b["invoice_id"],
        "b_paid": b["approved"],
        "a_terminal": a["terminal_id"],
        "a_payment": a["payment_id"],
    }
    token = {"a": APP_TOKEN, "b": OTHER_TOKEN}[caller]
    form = robot_form(
        portals[target]["member_id"],
        token,
        portals[target]["deal_id"],
        **{k: v.format(**names) for k, v in props.items()},
    )
    before = snapshot(fuzz_app, b["portal_id"])
    resp = fuzz_app.test_client().post("/bitrix/handler", data=form)
    refused(resp, 401, "unknown portal or wrong application token")
    assert snapshot(fuzz_app, b["portal_id"]) == before
    assert queued_jobs(redis_client) == 0
    b_untouched(b24_b)


# Linkly's notifications: each payment has its own secret.


def transaction_event(session_id: str, txn_ref: str) -> dict[str, Any]:
    """An approved transaction event."""
    return {
        "SessionId": session_id,
        "ResponseType": "transaction",
        "Response": {"Success": True, "ResponseCode": "00", "TxnRef": txn_ref},
    }


@pytest.mark.parametrize("kind", ["transaction", "display", "receipt"])
@pytest.mark.parametrize("direction", ["a_secret_on_b_payment", "b_secret_on_a_payment"])
def test_notification_with_the_other_payment_secret_is_refused(
    fuzz_app, portals, redis_client, kind, direction
) -> None:
    a, b = portals["a"], portals["b"]
    if direction == "a_secret_on_b_payment":
        pid, session, secret, ref = b["running"], B_SESSION, NOTIFY_SECRET, "BREF000000000001"
    else:
        pid, session, secret, ref = a["payment_id"], "0" * 32, B_NOTIFY_SECRET, "FUZZREF000000001"
    body = transaction_event(session, ref)
    if kind != "transaction":
        body = {"SessionId": session, "ResponseType": kind, "Response": {"DisplayText": ["X"]}}
    before = snapshot(fuzz_app, b["portal_id"])
    with fuzz_app.app_context():
        a_before = _rows(Payment, Payment.id == a["payment_id"])
    resp = fuzz_app.test_client().post(
        f"/linkly/notify/{pid}/{session}/{kind}",
        json=body,
        headers={"Authorization": f"Bearer {secret}"},
    )
    refused(resp, 401, "not authorized")
    assert snapshot(fuzz_app, b["portal_id"]) == before
    with fuzz_app.app_context():
        assert _rows(Payment, Payment.id == a["payment_id"]) == a_before
    assert queued_jobs(redis_client) == 0


def test_a_authorized_event_naming_b_session_changes_nothing_of_b(
    fuzz_app, portals, redis_client
) -> None:
    # A's own URL and secret, but the body claims B's session and TxnRef: the event belongs
    # to A's payment, whose session it does not match, so it is journaled (on A) and ignored.
    a, b = portals["a"], portals["b"]
    before = snapshot(fuzz_app, b["portal_id"])
    resp = fuzz_app.test_client().post(
        f"/linkly/notify/{a['payment_id']}/{B_SESSION}/transaction",
        json=transaction_event(B_SESSION, "BREF000000000001"),
        headers={"Authorization": f"Bearer {NOTIFY_SECRET}"},
    )
    assert resp.status_code == 200 and resp.get_json() == {"status": "ok"}
    after = snapshot(fuzz_app, b["portal_id"])
    assert after["b"] == before["b"]
    assert after["counts"] == {**before["counts"], "journal": before["counts"]["journal"] + 2}
    with fuzz_app.app_context():
        assert db.session.get(Payment, a["payment_id"]).state == "in_progress"
        kinds = db.session.scalars(
            select(JournalEntry.kind).where(JournalEntry.subject == a["payment_id"])
        ).all()
    assert "linkly.event_ignored" in kinds
    assert queued_jobs(redis_client) == 0


# The frame POST that issues frame tokens.


@pytest.mark.parametrize("direction", ["a_token_b_member", "b_token_a_member"])
def test_placement_with_the_other_portal_token_issues_no_frame_token(
    fuzz_app, portals, b24_b, direction
) -> None:
    a, b = portals["a"], portals["b"]
    member, token = (
        (b["member_id"], APP_TOKEN)
        if direction == "a_token_b_member"
        else (a["member_id"], OTHER_TOKEN)
    )
    before = snapshot(fuzz_app, b["portal_id"])
    resp = fuzz_app.test_client().post(
        "/bitrix/placement",
        data={
            "member_id": member,
            "APPLICATION_TOKEN": token,
            "AUTH_ID": "x" * 32,
            "PLACEMENT": "CRM_DEAL_DETAIL_TAB",
            "PLACEMENT_OPTIONS": '{"ID": "1"}',
        },
    )
    refused(resp, 401, "unknown portal or wrong application token")
    assert "POS_BOOT" not in resp.get_data(as_text=True)
    assert snapshot(fuzz_app, b["portal_id"]) == before
    b_untouched(b24_b)


# A genuine robot call of A (proven by its event_token) that names B's terminal, payment or
# invoice: the job refuses it and tells A's workflow why; nothing of B moves.


@pytest.fixture
def robot_portals(served_app, ctl, b24, b24_b) -> dict[str, Any]:
    """A installed by the simulator (real robots, real event tokens), B beside it."""
    assert ctl("POST", "install", {"mode": "event"})["status"] == 200
    deal_a, invoice_a = _new_deal(b24, "A lunch")
    b_docs = [_new_deal(b24_b, f"B deal {n}") for n in range(3)]
    issued = _sim(b24_b, "POST", "token", {"user_id": 1})
    with served_app.app_context():
        portal_a = db.session.scalar(select(Portal))
        terminal_a = Terminal(portal=portal_a, name="Front", shared=True)
        terminal_a.set_secret(secrets.box, "linkly-secret-a")
        portal_b = Portal(
            member_id=issued["member_id"],
            domain=issued["domain"],
            client_endpoint=issued["client_endpoint"],
            installed=True,
            auth_user_id=1,
        )
        portal_b.set_tokens(
            secrets.box, access=issued["access_token"], refresh=issued["refresh_token"]
        )
        portal_b.application_token_enc = secrets.box.encrypt(OTHER_TOKEN)
        terminal_b = Terminal(portal=portal_b, name="Tb", shared=True)
        terminal_b.set_secret(secrets.box, "linkly-secret-b")
        db.session.add_all([terminal_a, portal_b, terminal_b])
        db.session.commit()
        ids = {
            "deal_a": deal_a,
            "b": {
                "portal_id": portal_b.id,
                "terminal_id": terminal_b.id,
                "invoice_id": b_docs[-1][1],
                "paid_invoice_id": b_docs[0][1],
                **_b_rows(portal_b.id, terminal_b.id, b_docs[0], b_docs[-1]),
            },
        }
    assert ids["b"]["paid_invoice_id"] == invoice_a
    _sim(b24_b, "DELETE", "requests")
    return ids


def _answered(ctl, workflow_id: str) -> dict[str, Any]:
    """The simulator's handler POST of this workflow, once the app answered it."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for entry in ctl("GET", "outbound"):
            if workflow_id in str(entry["form"]) and entry["status"] is not None:
                return entry
        time.sleep(0.05)
    raise TimeoutError(f"no answered handler call for {workflow_id}")


@pytest.mark.parametrize(
    ("code", "props", "field", "problem"),
    [
        ("linkly_pos_payment", {"terminal": "{b_terminal}"}, "terminal", "unknown terminal"),
        (
            "linkly_pos_payment",
            {"invoice_id": "{b_invoice}", "terminal": "Front"},
            "invoice",
            "could not read the invoice",
        ),
        ("linkly_pos_refund", {"payment_id": "{b_paid}"}, "payment_id", "no such payment"),
        # B's approved purchase paid B's invoice of the same number as A's unpaid invoice.
        ("linkly_pos_refund", {"invoice_id": "{b_paid_invoice}"}, "payment_id", "no such payment"),
    ],
)
def test_a_robot_naming_b_objects_is_told_no_and_b_is_untouched(
    served_app, robot_portals, ctl, run_jobs, b24_b, code, props, field, problem
) -> None:
    b = robot_portals["b"]
    names = {
        "b_terminal": b["terminal_id"],
        "b_invoice": b["invoice_id"],
        "b_paid": b["approved"],
        "b_paid_invoice": b["paid_invoice_id"],
    }
    properties = {k: v.format(**names) for k, v in props.items()}
    before = snapshot(served_app, b["portal_id"])
    wf = ctl(
        "POST",
        "robots/run",
        {"id": robot_portals["deal_a"], "code": code, "properties": properties},
    )
    call = _answered(ctl, wf["id"])
    assert call["status"] == 200 and '"queued"' in call["response"], call["response"]
    assert run_jobs() >= 1
    done = ctl("GET", f"workflows/{wf['id']}")
    values = {k.lower(): v for step in done["returns"].values() for k, v in step.items()}
    assert values["status"] == "error", values
    assert field in values["error"] and problem in values["error"].lower(), values["error"]
    after = snapshot(served_app, b["portal_id"])
    assert after["b"] == before["b"]
    assert after["counts"]["payments"] == before["counts"]["payments"]
    assert after["counts"]["terminals"] == before["counts"]["terminals"]
    assert after["counts"]["calls"] == before["counts"]["calls"] + 1  # A's own call, kept
    b_untouched(b24_b)


# Lifecycle events name a portal by member_id: A's credentials never act on B.


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


@pytest.mark.parametrize(
    ("path", "event", "problem"),
    [
        ("/bitrix/install", "ONAPPINSTALL", "belongs to another app or portal"),
        ("/bitrix/events", "ONAPPUPDATE", "belongs to another app or portal"),
        ("/bitrix/events", "ONAPPUNINSTALL", "application token does not match"),
    ],
)
def test_a_lifecycle_event_aimed_at_b_is_refused(
    fuzz_app, portals, b24, b24_b, redis_client, path, event, problem
) -> None:
    # A's genuine access token (app.info vouches for A) and A's application token, B's member id:
    # were it accepted, B's tokens, endpoint and application token would become A's.
    b = portals["b"]
    issued_a = _sim(b24, "POST", "token", {"user_id": 1})
    before = snapshot(fuzz_app, b["portal_id"])
    resp = fuzz_app.test_client().post(
        path, data=lifecycle_form(event, b["member_id"], APP_TOKEN, issued_a)
    )
    refused(resp, 401, problem)
    assert snapshot(fuzz_app, b["portal_id"]) == before
    assert queued_jobs(redis_client) == 0
    b_untouched(b24_b)
