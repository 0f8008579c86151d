"""Fixture of the `flask pos` CLI campaign: `fuzz_app` plus everything the refusals need."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlsplit

import pytest
from requests.adapters import HTTPAdapter
from sqlalchemy import select

from bizproc_app.extensions import db, secrets
from bizproc_app.models import Payment, Portal, Terminal, TerminalUser
from bizproc_app.wiring.services import bitrix_client_for
from tests.fuzz.cli.inputs import GONE_MEMBER

INVOICE = 31


@pytest.fixture
def cli(fuzz_app, b24, b24_control, monkeypatch):
    """fuzz_app plus what refusals need, and a log of every request not meant for Bitrix24.

    Added: an uninstalled portal, terminal Tc (portal A, not shared, user 5), a removed
    terminal, approved / refunded / declined payments, and three Bitrix24 invoices: paid,
    in USD, and one that payment P1 has already paid (its invoice lock is held).
    """
    app, fuzz = fuzz_app, fuzz_app.config["FUZZ"]
    sent: list[str] = []
    bitrix_host = urlsplit(b24.urls["portal"]).netloc
    real_send = HTTPAdapter.send

    def send(self, request, *args, **kwargs):
        if urlsplit(request.url).netloc != bitrix_host:
            sent.append(request.url)  # Linkly, or anything else: a refusal must send nothing
        return real_send(self, request, *args, **kwargs)

    monkeypatch.setattr(HTTPAdapter, "send", send)
    b24_control.configure(rate_limit=False)

    def invoice(currency: str) -> int:
        fields = {"title": "Fuzz", "opportunity": 25, "currencyId": currency}
        return int(b24_control.add_invoice(fields, run_robots=False)["id"])

    invoices = {"paid": invoice("AUD"), "usd": invoice("USD"), "locked": invoice("AUD")}
    with app.app_context():
        portals = list(db.session.scalars(select(Portal).order_by(Portal.id)))
        for portal in portals:  # thousands of invoice reads: lift the client's rate limit
            portal.rate_limit, portal.rate_burst = 10_000.0, 1_000_000
        portal_a = portals[0]
        db.session.add(Portal(member_id=GONE_MEMBER, domain="gone.example", installed=False))
        tc = Terminal(portal=portal_a, name="Tc", users=[TerminalUser(user_id=5)])
        tc.set_secret(secrets.box, "linkly-secret")
        gone = Terminal(portal=portal_a, name="Gone", active=False)
        db.session.add_all([tc, gone])
        db.session.flush()
        ta_id = db.session.scalar(select(Terminal.id).where(Terminal.name == "Ta"))
        tb_id = db.session.scalar(select(Terminal.id).where(Terminal.name == "Tb"))

        def payment(cents: int, state: str = "approved", **extra: Any) -> Payment:
            fields = {"kind": "purchase", "rfn": "RFN" + uuid.uuid4().hex[:8], **extra}
            made = Payment(
                portal_id=portal_a.id,
                terminal_id=ta_id,
                amount_cents=cents,
                currency="AUD",
                state=state,
                source="cli",
                **fields,
            )
            db.session.add(made)
            db.session.flush()
            return made

        lock = f"{portal_a.id}:invoice:{invoices['locked']}"
        p1 = payment(1000, invoice_id=invoices["locked"], invoice_lock=lock)
        payment(300, kind="refund", original_id=p1.id)  # 7.00 left to refund
        p2 = payment(500)
        refunded = payment(500, kind="refund", original_id=p2.id)
        no_rfn, declined = payment(700, rfn=None), payment(800, state="declined")
        ctx = {
            "app": app,
            "sent": sent,
            "member": fuzz["member"],
            "ids": {"Ta": ta_id, "Tb": tb_id, "Tc": tc.id, "Gone": gone.id},
            "invoices": invoices,
            "p1": p1.id,
            "unrefundable": [p2.id, no_rfn.id, declined.id, refunded.id, fuzz["payment_id"]],
            "payments": set(db.session.scalars(select(Payment.id))),
        }
        db.session.commit()
        client = bitrix_client_for(portal_a)
        paid = client.call(
            "crm.item.payment.add", {"entityTypeId": INVOICE, "entityId": invoices["paid"]}
        ).result
        client.call("crm.item.payment.pay", {"id": paid})
    return ctx
