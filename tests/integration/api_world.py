"""The payment screen's API as one portal's users meet it: A's routes, a world to call them on.

`fuzz_app`'s portals with A's Bitrix24 (`b24`) and Linkly (`pinpads`) simulators; `observe()`
takes every row of every table, both simulators' counters, the CRM and the queues, so a refused
call can be shown to have changed nothing.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from bizproc_app.extensions import db, secrets
from bizproc_app.models import Base, Payment, RefundGrant, Terminal, TerminalUser
from bizproc_app.payments.states import now
from tests.fuzz.conftest import fuzz_app
from tests.helpers.bitrix24 import b24_ctl
from tests.helpers.jobs import queued_jobs
from tests.payment_fixtures import linkly_overrides

__all__ = ["fuzz_app"]  # the two-portal fixture, reused as is

SECRET_KEY = "endpoint-auth-secret-key-0123456789"
ENCRYPTION_KEY = Fernet.generate_key().decode()
TERMINAL_SECRET = "linkly-secret"  # what fuzz_app stores for each terminal
SESSION = "Your session has expired: reopen the tab."
NOT_INSTALLED = "The app is not installed on this portal."
ADMINS_ONLY = "Only portal administrators may do this."
PAIR = {"name": "Back", "username": "shop", "password": "shop-pass", "pair_code": "111111"}

# "METHOD rule" of every /api/ route -> a body that works with A's admin token (or ids -> body).
SCREEN: dict[str, Any] = {
    "GET /api/deals/<int:deal_id>": None,
    "GET /api/invoices/<int:invoice_id>": None,
    "POST /api/deals/<int:deal_id>/invoices": {"title": "Coffee", "amount": "5.00"},
    "GET /api/terminals": None,
    "POST /api/payments": lambda i: {
        "target": {"kind": "invoice", "id": i["invoice_id"]},
        "terminal_id": i["busy_terminal"],
    },
    "GET /api/payments/<payment_id>": None,
    "POST /api/payments/<payment_id>/cancel": None,
    "POST /api/payments/<payment_id>/keys": {"key": "yes"},
    "POST /api/payments/<payment_id>/refunds": {"amount": "1.00"},
}
ADMIN: dict[str, Any] = {
    "GET /api/settings": None,
    "POST /api/terminals/pair": PAIR,
    "POST /api/terminals": {"name": "Side", "secret": "s3cr3t"},
    "PUT /api/terminals/<int:terminal_id>": {"users": [2, 3], "shared": False},
    "POST /api/terminals/<int:terminal_id>/test": None,
    "DELETE /api/terminals/<int:terminal_id>": None,
    "PUT /api/refund-users": {"users": [2]},
    "PUT /api/workflow-refunds": {"allowed": False, "limit": "50.00"},
    "POST /api/repair": None,
    "GET /api/users": None,
    "GET /api/attention": None,
    "POST /api/attention/<payment_id>/resolve": {"as": "declined", "reason": "receipt: declined"},
    "POST /api/attention/<payment_id>/release": None,
}
ROUTES = {**SCREEN, **ADMIN}
REFUNDS = "POST /api/payments/<payment_id>/refunds"


@pytest.fixture
def config(config, pinpads, database_url):
    """Known secrets (to look for in pages) and Linkly pointed at the simulator."""
    # database_url is named so that pytest still parametrizes it through this override.
    keys = {"SECRET_KEY": SECRET_KEY, "ENCRYPTION_KEY": (ENCRYPTION_KEY,)}
    return config.replace(**keys, **linkly_overrides(pinpads))


@pytest.fixture
def world(fuzz_app, b24) -> dict[str, Any]:
    """A's deal and invoice, an approved payment, a PIN pad prompt, an idle terminal, a grant."""
    deal_id = fuzz_app.config["FUZZ"]["deal_id"]  # the frame tokens' card
    fields = {"title": "Lunch bill", "opportunity": 30, "currencyId": "AUD"}
    made = b24_ctl(b24, "POST", "invoices", {"fields": fields, "deal_id": deal_id})
    with fuzz_app.app_context():
        running = db.session.get(Payment, fuzz_app.config["FUZZ"]["payment_id"])
        running.display = {"lines": ["SIGNATURE OK?"], "cancel": True, "yes": True, "no": True}
        portal_id, busy = running.portal_id, running.terminal_id
        approved = Payment(
            portal_id=portal_id, terminal_id=busy, kind="purchase", amount_cents=3000,
            currency="AUD", state="approved", source="ui", session_id="2" * 32,
            txn_ref="AUTHREF000000002", rfn="A-RFN-0002", deal_id=deal_id,
        )  # fmt: skip
        idle = Terminal(portal_id=portal_id, name="Idle", users=[TerminalUser(user_id=2)])
        idle.set_secret(secrets.box, TERMINAL_SECRET)
        held = Terminal(portal_id=portal_id, name="Held")
        held.set_secret(secrets.box, TERMINAL_SECRET)
        db.session.add_all([approved, idle, held, RefundGrant(portal_id=portal_id, user_id=7)])
        db.session.flush()
        given_up = Payment(
            portal_id=portal_id, terminal_id=held.id, kind="purchase", amount_cents=500,
            currency="AUD", state="unknown", source="ui", session_id="3" * 32,
            txn_ref="LOSTREF000000003", sent_at=now(), attention_at=now(), deal_id=deal_id,
        )  # fmt: skip
        db.session.add(given_up)
        db.session.flush()
        held.active_payment_id = given_up.id
        db.session.commit()
        ids = {"portal": portal_id, "busy_terminal": busy, "terminal_id": idle.id}
        ids |= {"running": running.id, "approved": approved.id, "deal_id": deal_id}
        ids |= {"given_up": given_up.id}
    other = b24_ctl(b24, "POST", "deals", {"fields": {"title": "Dinner", "currencyId": "AUD"}})
    b24_ctl(b24, "DELETE", "requests")
    return {**ids, "invoice_id": made["id"], "other_deal_id": other["id"]}


@pytest.fixture
def observe(fuzz_app, b24, pinpads, redis_client):
    """Every row of every table, both simulators' request counters, the CRM, the queues."""

    def now() -> dict[str, Any]:
        crm, seen = b24_ctl(b24, "GET", "crm"), b24_ctl(b24, "GET", "requests")
        with fuzz_app.app_context():
            tables = Base.metadata.sorted_tables
            rows = {t.name: sorted(map(repr, db.session.execute(select(t)))) for t in tables}
        return {
            "rows": rows,
            "bitrix": (seen["requests"], seen["batch_commands"]),
            "crm": {k: len(crm[k]) for k in ("deals", "invoices", "payments", "product_rows")},
            "linkly": dict(pinpads.app.extensions["linkly_requests"]),
            "jobs": queued_jobs(redis_client),
        }

    return now


def call(app, route: str, ids: dict[str, Any], headers: dict[str, str]) -> Any:
    """Send the route's realistic request with the given headers."""
    method, rule = route.split(" ")
    # Refunds need an approved purchase; the other payment routes act on the running one.
    # Decisions act on a payment the app gave up on.
    pick = "approved" if route == REFUNDS else "given_up" if "attention" in route else "running"
    ids = {**ids, "payment_id": ids[pick]}
    path = re.sub(r"<(?:int:)?(\w+)>", lambda m: str(ids[m[1]]), rule)
    body = ROUTES[route](ids) if callable(ROUTES[route]) else ROUTES[route]
    return app.test_client().open(path, method=method, json=body, headers=headers)
