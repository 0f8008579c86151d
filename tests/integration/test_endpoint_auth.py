"""Every authenticated route refuses a wrong credential, says why, and changes nothing.

`fuzz_app`'s portals, with A's Bitrix24 (`b24`) and Linkly (`pinpads`) simulators observed: a
refused call moves no row of any table, no simulator request counter, no CRM item, no job. The
same requests with A's admin token do get through, so "nothing changed" is not a bad body.
"""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
import requests
from cryptography.fernet import Fernet
from flask import current_app
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import select

from bizproc_app.extensions import db, secrets
from bizproc_app.frame import TOKEN_SECONDS, FrameUser, issue
from bizproc_app.models import Base, Payment, RefundGrant, Terminal, TerminalUser
from bizproc_app.payments.states import now
from tests.bitrix_fixtures import CLIENT_SECRET
from tests.fuzz.conftest import APP_TOKEN, fuzz_app
from tests.payment_fixtures import linkly_overrides
from workers.queues import QUEUE_NAMES, queue

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
    "POST /api/repair": None,
    "GET /api/users": None,
    "GET /api/attention": None,
    "POST /api/attention/<payment_id>/resolve": {"as": "declined", "reason": "receipt: declined"},
    "POST /api/attention/<payment_id>/release": None,
}
ROUTES = {**SCREEN, **ADMIN}
REFUNDS = "POST /api/payments/<payment_id>/refunds"
REFUND_RIGHTS = "Refunds need refund rights: ask an administrator."
CLERK_CASES = [*((r, ADMINS_ONLY) for r in ADMIN), (REFUNDS, REFUND_RIGHTS)]


@pytest.fixture
def config(config, pinpads, database_url):  # type: ignore[no-untyped-def]
    """Known secrets (to look for in pages) and Linkly pointed at the simulator."""
    # database_url is named so that pytest still parametrizes it through this override.
    keys = {"SECRET_KEY": SECRET_KEY, "ENCRYPTION_KEY": (ENCRYPTION_KEY,)}
    return config.replace(**keys, **linkly_overrides(pinpads))


@pytest.fixture
def world(fuzz_app, b24) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """A's deal and invoice, an approved payment, a PIN pad prompt, an idle terminal, a grant."""
    deal_id = sim(b24, "POST", "deals", {"fields": {"title": "Lunch", "currencyId": "AUD"}})["id"]
    fields = {"title": "Lunch bill", "opportunity": 30, "currencyId": "AUD"}
    made = sim(b24, "POST", "invoices", {"fields": fields, "deal_id": deal_id})
    with fuzz_app.app_context():
        running = db.session.get(Payment, fuzz_app.config["FUZZ"]["payment_id"])
        running.display = {"lines": ["SIGNATURE OK?"], "cancel": True, "yes": True, "no": True}
        portal_id, busy = running.portal_id, running.terminal_id
        approved = Payment(
            portal_id=portal_id, terminal_id=busy, kind="purchase", amount_cents=3000,
            currency="AUD", state="approved", source="ui", session_id="2" * 32,
            txn_ref="AUTHREF000000002", rfn="A-RFN-0002",
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
            txn_ref="LOSTREF000000003", sent_at=now(), attention_at=now(),
        )  # fmt: skip
        db.session.add(given_up)
        db.session.flush()
        held.active_payment_id = given_up.id
        db.session.commit()
        ids = {"portal": portal_id, "busy_terminal": busy, "terminal_id": idle.id}
        ids |= {"running": running.id, "approved": approved.id, "deal_id": deal_id}
        ids |= {"given_up": given_up.id}
    sim(b24, "DELETE", "requests")
    return {**ids, "invoice_id": made["id"]}


def sim(b24, method: str, path: str, body: dict[str, Any] | None = None) -> Any:  # type: ignore[no-untyped-def]
    """Call the Bitrix24 simulator's control API."""
    url = f"{b24.urls['control'].rstrip('/')}/{path}"
    return requests.request(method, url, json=body, timeout=30).json()


@pytest.fixture
def observe(fuzz_app, b24, pinpads, redis_client):  # type: ignore[no-untyped-def]
    """Every row of every table, both simulators' request counters, the CRM, the queues."""

    def now() -> dict[str, Any]:
        crm, seen = sim(b24, "GET", "crm"), sim(b24, "GET", "requests")
        with fuzz_app.app_context():
            tables = Base.metadata.sorted_tables
            rows = {t.name: sorted(map(repr, db.session.execute(select(t)))) for t in tables}
        return {
            "rows": rows,
            "bitrix": (seen["requests"], seen["batch_commands"]),
            "crm": {k: len(crm[k]) for k in ("deals", "invoices", "payments", "product_rows")},
            "linkly": dict(pinpads.app.extensions["linkly_requests"]),
            "jobs": sum(queue(name, redis_client).count for name in QUEUE_NAMES),
        }

    return now


def call(app, route: str, ids: dict[str, Any], headers: dict[str, str]) -> Any:  # type: ignore[no-untyped-def]
    """Send the route's realistic request with the given headers."""
    method, rule = route.split(" ")
    # Refunds need an approved purchase; the other payment routes act on the running one.
    # Decisions act on a payment the app gave up on.
    pick = "approved" if route == REFUNDS else "given_up" if "attention" in route else "running"
    ids = {**ids, "payment_id": ids[pick]}
    path = re.sub(r"<(?:int:)?(\w+)>", lambda m: str(ids[m[1]]), rule)
    body = ROUTES[route](ids) if callable(ROUTES[route]) else ROUTES[route]
    return app.test_client().open(path, method=method, json=body, headers=headers)


class _LongAgo(TimestampSigner):
    def get_timestamp(self) -> int:
        return int(time.time()) - TOKEN_SECONDS - 60


def bad_credentials(portal_id: int, admin_token: str) -> dict[str, tuple[dict[str, str], str]]:
    """Name -> (headers, the app's message); every token names A's admin unless it says not."""
    claims, key = [portal_id, 1, "Admin", True], current_app.config["SECRET_KEY"]
    other_key = URLSafeTimedSerializer("another-secret-key", salt="frame-token").dumps(claims)
    expired = URLSafeTimedSerializer(key, salt="frame-token", signer=_LongAgo).dumps(claims)
    # Only its age is wrong: without max_age our own key reads it.
    assert URLSafeTimedSerializer(key, salt="frame-token").loads(expired) == claims
    unknown_portal = issue(FrameUser(portal_id + 1000, 1, "Admin", True))
    return {
        "no header": ({}, SESSION),
        "Bearer forged": ({"Authorization": "Bearer forged"}, SESSION),
        "another SECRET_KEY": ({"Authorization": f"Bearer {other_key}"}, SESSION),
        "expired 4 h ago": ({"Authorization": f"Bearer {expired}"}, SESSION),
        "no Bearer scheme": ({"Authorization": admin_token}, SESSION),
        "unknown portal id": ({"Authorization": f"Bearer {unknown_portal}"}, NOT_INSTALLED),
    }


def test_the_table_lists_every_api_route(app) -> None:  # type: ignore[no-untyped-def]
    rules = [r for r in app.url_map.iter_rules() if r.rule.startswith("/api/")]
    registered = {f"{m} {r.rule}" for r in rules for m in r.methods - {"HEAD", "OPTIONS"}}
    assert registered == set(ROUTES)  # a new /api/ route must be added to the table


@pytest.mark.parametrize("route", ROUTES)
def test_api_route_refuses_a_wrong_frame_token(fuzz_app, world, observe, route) -> None:  # type: ignore[no-untyped-def]
    with fuzz_app.app_context():
        cases = bad_credentials(world["portal"], fuzz_app.config["FUZZ"]["token_a"])
    before = observe()
    for name, (headers, message) in cases.items():
        resp = call(fuzz_app, route, world, headers)
        assert (resp.status_code, resp.get_json()) == (401, {"error": message}), name
        assert observe() == before, name


@pytest.mark.parametrize(("route", "message"), CLERK_CASES)
def test_a_clerk_is_refused_admin_routes_and_refunds(
    fuzz_app, world, observe, route, message
) -> None:  # type: ignore[no-untyped-def]
    clerk = {"Authorization": f"Bearer {fuzz_app.config['FUZZ']['token_clerk']}"}
    before = observe()
    resp = call(fuzz_app, route, world, clerk)
    assert (resp.status_code, resp.get_json()) == (403, {"error": message})
    assert observe() == before


@pytest.mark.parametrize("route", ROUTES)
def test_the_admin_token_gets_through_the_same_request(fuzz_app, world, observe, route) -> None:  # type: ignore[no-untyped-def]
    admin = {"Authorization": f"Bearer {fuzz_app.config['FUZZ']['token_a']}"}
    before = observe()
    resp = call(fuzz_app, route, world, admin)
    assert resp.status_code not in (401, 403), resp.get_data(as_text=True)[:300]
    # Reads of our own rows touch nothing; every other route reaches a simulator or a row.
    reads = ("GET /api/terminals", "GET /api/payments/", "GET /api/attention")
    assert observe() != before or route.startswith(reads)


def frame_post(app, b24, **changes: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The form Bitrix24 POSTs when user 1 opens the app's own page on portal A."""
    auth = sim(b24, "POST", "token", {"user_id": 1})["access_token"]
    form = {"member_id": app.config["FUZZ"]["member"], "APPLICATION_TOKEN": APP_TOKEN}
    form |= {"AUTH_ID": auth, "PLACEMENT": "DEFAULT", **changes}
    return {k: v for k, v in form.items() if v}


@pytest.mark.parametrize("path", ["/bitrix/placement", "/"])
@pytest.mark.parametrize(
    ("changes", "message", "asks_portal"),
    [
        ({"APPLICATION_TOKEN": "c" * 32}, "unknown portal or wrong application token", False),
        ({"AUTH_ID": ""}, "the frame POST carries no AUTH_ID", False),
        ({"AUTH_ID": "x" * 32}, "Bitrix24 did not confirm who you are: reopen the tab.", True),
    ],
    ids=["wrong APPLICATION_TOKEN", "no AUTH_ID", "AUTH_ID the portal refuses"],
)
def test_frame_post_with_a_bad_credential_issues_no_frame_token(
    fuzz_app, b24, world, observe, path, changes, message, asks_portal
) -> None:  # type: ignore[no-untyped-def]
    form, before = frame_post(fuzz_app, b24, **changes), observe()
    resp = fuzz_app.test_client().post(path, data=form)
    assert (resp.status_code, resp.get_json()) == (401, {"error": message})
    assert "POS_BOOT" not in resp.get_data(as_text=True)
    after = observe()
    # Only a genuine application token gets the AUTH_ID checked by the portal (user.current).
    assert (after.pop("bitrix") != before.pop("bitrix")) is asks_portal
    assert after == before


@pytest.mark.parametrize("path", ["/bitrix/placement", "/"])
def test_frame_post_lets_only_the_portal_frame_its_answer(fuzz_app, b24, path) -> None:  # type: ignore[no-untyped-def]
    resp = fuzz_app.test_client().post(path, data=frame_post(fuzz_app, b24))
    assert resp.status_code == 200 and "POS_BOOT" in resp.get_data(as_text=True)
    policy = [d.split() for d in resp.headers["Content-Security-Policy"].split(";")]
    # BITRIX_ALLOW_HTTP is on in fuzz_app, so the portal's http origin is allowed too.
    domain = b24.portal.domain
    assert [d[1:] for d in policy if d[0] == "frame-ancestors"] == [
        [f"https://{domain}", f"http://{domain}"]
    ]


def test_home_page_shows_no_secret(fuzz_app) -> None:  # type: ignore[no-untyped-def]
    resp = fuzz_app.test_client().get("/")
    assert resp.status_code == 200
    body = resp.get_data(as_text=True)
    # SECRET_KEY, ENCRYPTION_KEY, BITRIX_CLIENT_SECRET, the terminals' Linkly secret, A's token.
    for secret in (SECRET_KEY, ENCRYPTION_KEY, CLIENT_SECRET, TERMINAL_SECRET, APP_TOKEN):
        assert secret not in body


def test_the_install_page_is_framed_only_by_the_stored_portal(fuzz_app, b24) -> None:  # type: ignore[no-untyped-def]
    # A refused install naming another DOMAIN: the request's DOMAIN never reaches the CSP.
    form = frame_post(fuzz_app, b24, AUTH_ID="x" * 32)
    form |= {"REFRESH_ID": "r" * 32, "AUTH_EXPIRES": "3600", "status": "L"}
    client = fuzz_app.test_client()
    resp = client.post("/bitrix/install?DOMAIN=evil.example:8443", data=form)
    assert resp.status_code in (400, 401, 503), resp.status_code
    csp = resp.headers["Content-Security-Policy"]
    assert "evil.example" not in csp
    stored = b24.portal.domain  # A's portal is stored (member_id is A's): only it may frame
    assert f"https://{stored}" in csp
    unknown = client.post(
        "/bitrix/install?DOMAIN=evil.example", data={**form, "member_id": "z" * 32}
    )
    assert "frame-ancestors 'none'" in unknown.headers["Content-Security-Policy"]
