"""Fuzzing fixtures: an installed portal, a terminal, a running payment, frame tokens."""

from __future__ import annotations

import os
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import func, select

from bizproc_app.extensions import db, secrets
from bizproc_app.models import HandlerCall, JournalEntry, Payment, Portal, Terminal
from bizproc_app.payments.pipeline import notify_hash
from tests.bitrix_fixtures import CLIENT_ID, CLIENT_SECRET, frame_token

# CI runs a short seeded campaign; `make fuzz` runs thousands of cases per endpoint.
settings.register_profile(
    "ci",
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "150")),
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.load_profile("ci")

APP_TOKEN = "a" * 32
OTHER_TOKEN = "b" * 32
NOTIFY_SECRET = "notify-secret-of-the-running-payment"


@pytest.fixture
def fuzz_app(make_app, b24, b24_control):
    """The app with two portals (A installed with a terminal and a running payment, B too)."""
    app = make_app(
        BITRIX_OAUTH_URL=b24.urls["oauth"],
        BITRIX_CLIENT_ID=CLIENT_ID,
        BITRIX_CLIENT_SECRET=CLIENT_SECRET,
        BITRIX_ALLOW_HTTP=True,
    )
    state = b24.portal
    control = b24.urls["control"]
    issued = b24_control.token(1)
    deal_id = b24_control.add_deal({"title": "Lunch", "currencyId": "AUD"})["id"]
    with app.app_context():
        made = {}
        for name, member, token in (
            ("a", state.member_id, APP_TOKEN),
            ("b", "b" * 32, OTHER_TOKEN),
        ):
            portal = Portal(
                member_id=member,
                domain=state.domain,
                client_endpoint=state.client_endpoint,
                installed=True,
                auth_user_id=1,
            )
            portal.set_tokens(
                secrets.box, access=issued["access_token"], refresh=issued["refresh_token"]
            )
            portal.application_token_enc = secrets.box.encrypt(token)
            db.session.add(portal)
            db.session.flush()
            terminal = Terminal(portal=portal, name=f"T{name}", shared=True)
            terminal.set_secret(secrets.box, "linkly-secret")
            db.session.add(terminal)
            db.session.flush()
            made[name] = (portal.id, terminal.id)
        payment = Payment(
            portal_id=made["a"][0],
            terminal_id=made["a"][1],
            kind="purchase",
            amount_cents=1000,
            currency="AUD",
            state="in_progress",
            source="cli",
            deal_id=deal_id,
            session_id="0" * 32,
            txn_ref="FUZZREF000000001",
            notify_hash=notify_hash(NOTIFY_SECRET),
        )
        db.session.add(payment)
        db.session.commit()
    card = ("deal", deal_id)  # every token's screen was opened on A's deal
    app.config["FUZZ"] = {
        "member": state.member_id,
        "control": control,
        "payment_id": payment.id,
        "deal_id": deal_id,
        "token_a": frame_token(app, control, made["a"][0], 1, admin=True, entity=card),
        "token_clerk": frame_token(app, control, made["a"][0], 2, entity=card),
        "token_b": frame_token(app, control, made["b"][0], 1, admin=True, entity=card),
        "token_ended": frame_token(app, control, made["a"][0], 1, admin=True, entity=card),
    }
    return app


def counts(app) -> dict[str, Any]:
    """Rows that bad input must never add (journal lines excepted), and the payment's state."""
    with app.app_context():
        db.session.expire_all()
        return {
            "payments": db.session.scalar(select(func.count()).select_from(Payment)),
            "calls": db.session.scalar(select(func.count()).select_from(HandlerCall)),
            "states": sorted(db.session.scalars(select(Payment.state))),
            "journal": db.session.scalar(select(func.count()).select_from(JournalEntry)),
        }


def clear_4xx(resp) -> None:
    """A bad request gets a 4xx with a JSON error naming the problem; never a 5xx."""
    assert resp.status_code < 500, (resp.status_code, resp.get_data(as_text=True)[:300])
    if resp.status_code >= 400 and resp.mimetype == "application/json":
        body = resp.get_json()
        assert isinstance(body, dict) and isinstance(body.get("error"), str) and body["error"]
