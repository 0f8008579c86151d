"""Fixtures: portal B with a Bitrix24 of its own, beside `fuzz_app`'s portal A (or one installed
by the simulator, for the robot calls), each with CRM documents and payments."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from sqlalchemy import select

from bizproc_app.extensions import db, secrets
from bizproc_app.models import Portal, Terminal
from simulators.bitrix24 import Bitrix24Simulator, SimConfig
from tests.bitrix_fixtures import CLIENT_ID, CLIENT_SECRET
from tests.fuzz.conftest import OTHER_TOKEN, fuzz_app
from tests.helpers.bitrix24 import b24_ctl
from tests.integration.portal_isolation.helpers import add_b_payments, new_deal

__all__ = ["fuzz_app"]  # the two-portal fixture, reused as is


@pytest.fixture
def b24_b() -> Iterator[Bitrix24Simulator]:
    """Portal B's own Bitrix24 (same app, another portal)."""
    sim = Bitrix24Simulator(
        SimConfig(app_url="http://127.0.0.1:9", client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    )
    sim.urls = sim.start("127.0.0.1", port=0)
    yield sim
    sim.stop()


@pytest.fixture
def portals(fuzz_app, b24, b24_b) -> dict[str, Any]:
    """fuzz_app's portals A and B, B moved to its own Bitrix24, with CRM documents and payments."""
    deal_a, invoice_a = new_deal(b24, "A lunch")
    # B has more documents than A, so its last ids exist nowhere in A's portal.
    b_docs = [new_deal(b24_b, f"B deal {n}") for n in range(3)]
    issued = b24_ctl(b24_b, "POST", "token", {"user_id": 1})
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
                **add_b_payments(portal_b.id, terminal_b.id, b_docs[0], b_docs[-1]),
            },
        }
    assert ids["b"]["deal_id"] > deal_a and ids["b"]["invoice_id"] > invoice_a
    assert ids["b"]["shared_invoice_id"] == invoice_a  # the same number in both portals
    b24_ctl(b24_b, "DELETE", "requests")
    return ids


@pytest.fixture
def robot_portals(served_app, ctl, b24, b24_b) -> dict[str, Any]:
    """A installed by the simulator (real robots, real event tokens), B beside it."""
    assert ctl("POST", "install", {"mode": "event"})["status"] == 200
    deal_a, invoice_a = new_deal(b24, "A lunch")
    b_docs = [new_deal(b24_b, f"B deal {n}") for n in range(3)]
    issued = b24_ctl(b24_b, "POST", "token", {"user_id": 1})
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
                **add_b_payments(portal_b.id, terminal_b.id, b_docs[0], b_docs[-1]),
            },
        }
    assert ids["b"]["paid_invoice_id"] == invoice_a
    b24_ctl(b24_b, "DELETE", "requests")
    return ids
