"""Portal isolation on the payment screen's API (/api/...): with A's admin frame token, nothing
of B's payments, invoices, deals or terminals can be read, paid, cancelled or refunded."""

from __future__ import annotations

import pytest

from tests.helpers.bitrix24 import b24_ctl
from tests.integration.portal_isolation.helpers import (
    b_untouched,
    bearer,
    crm_of,
    refused,
    snapshot,
)


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
    b24_ctl(b24_b, "DELETE", "requests")
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
