"""The frame pages and their JSON API, driven through the simulated portal."""

from __future__ import annotations

import json
import re
from typing import Any

import requests

from tests.helpers.waiting import wait_for
from tests.integration.payments.conftest import ledger


class Frame:
    """What a browser in the portal's iframe would hold: the page and its API token."""

    def __init__(self, base: str, html: str) -> None:
        boot = re.search(r"window\.POS_BOOT = (\{.*?\});</script>", html)
        assert boot, html[:500]
        self.boot = json.loads(boot.group(1))
        self.base = base

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.boot['token']}"}
        return requests.request(
            method, f"{self.base}/api{path}", json=body, headers=headers, timeout=30
        )


def _open(ctl, app_port: int, placement: str, entity_id: int = 0, user_id: int = 1) -> Frame:
    sent = ctl(
        "POST", "placements/open", {"placement": placement, "id": entity_id, "user_id": user_id}
    )
    assert sent["status"] == 200, sent["response"][:300]
    return Frame(f"http://127.0.0.1:{app_port}", sent["response"])


def test_clerk_adds_an_invoice_pays_it_and_refunds_part(
    shop, ctl, app_port, pinpads, processes
) -> None:
    frame = _open(ctl, app_port, "CRM_DEAL_DETAIL_TAB", shop["deal_id"])
    assert frame.boot["page"] == "payment" and frame.boot["entity"]["id"] == shop["deal_id"]
    assert frame.boot["user"]["admin"] is True and frame.boot["user"]["can_refund"] is True
    bad = frame.call("POST", f"/deals/{shop['deal_id']}/invoices", {"title": "", "amount": "1.234"})
    assert bad.status_code == 400 and set(bad.json()["errors"]) == {"title", "amount"}
    made = frame.call(
        "POST", f"/deals/{shop['deal_id']}/invoices", {"title": "Coffee", "amount": "15.00"}
    )
    assert made.status_code == 201, made.text
    invoice = made.json()["invoice"]
    assert invoice["amount"] == "15.00" and invoice["currency"] == "AUD"
    doc = frame.call("GET", f"/deals/{shop['deal_id']}").json()
    assert [i["status"] for i in doc["invoices"] if i["id"] == invoice["id"]] == ["unpaid"]
    terminals = frame.call("GET", "/terminals").json()
    assert terminals["default_id"] == shop["terminal_id"]
    started = frame.call(
        "POST",
        "/payments",
        {"target": {"kind": "invoice", "id": invoice["id"]}, "terminal_id": shop["terminal_id"]},
    )
    assert started.status_code == 201, started.text
    pid = started.json()["payment"]["id"]
    twice = frame.call(
        "POST",
        "/payments",
        {"target": {"kind": "invoice", "id": invoice["id"]}, "terminal_id": shop["terminal_id"]},
    )
    assert twice.status_code == 409  # a double click never starts a second payment
    done = wait_for(
        lambda: (p := frame.call("GET", f"/payments/{pid}").json()["payment"])["state"]
        in ("approved", "declined", "failed")
        and p,
        30,
        "approval",
    )
    assert done["state"] == "approved" and done["result"]["auth_code"]
    assert done["refundable"] == "15.00" and "APPROVED" in done["receipt"]
    refund = frame.call("POST", f"/payments/{pid}/refunds", {"amount": "5.00"})
    assert refund.status_code == 201, refund.text
    rid = refund.json()["payment"]["id"]
    wait_for(
        lambda: frame.call("GET", f"/payments/{rid}").json()["payment"]["state"] == "approved",
        30,
        "the refund",
    )
    doc = frame.call("GET", f"/deals/{shop['deal_id']}").json()
    row = next(i for i in doc["invoices"] if i["id"] == invoice["id"])
    assert row["status"] == "partly_refunded" and row["refundable"] == "10.00"
    assert sorted(e["amountCents"] for e in ledger(pinpads)) == [500, 1500]


def test_settings_are_for_admins_and_tokens_are_checked(shop, ctl, app_port) -> None:
    clerk = _open(ctl, app_port, "CRM_DEAL_DETAIL_TAB", shop["deal_id"], user_id=2)
    assert clerk.boot["user"]["admin"] is False and clerk.boot["user"]["can_refund"] is False
    assert clerk.call("GET", "/settings").status_code == 403
    assert clerk.call("GET", "/terminals").json()["terminals"] == []  # user 2 has none
    forged = requests.get(
        f"http://127.0.0.1:{app_port}/api/terminals",
        headers={"Authorization": "Bearer forged"},
        timeout=10,
    )
    assert forged.status_code == 401
    admin = _open(ctl, app_port, "CRM_DEAL_DETAIL_TAB", shop["deal_id"], user_id=1)
    settings = admin.call("GET", "/settings").json()
    assert settings["registration"]["ok"] is True
    assert [t["name"] for t in settings["terminals"]] == ["Front"]
    granted = admin.call("PUT", "/refund-users", {"users": [2]})
    assert granted.json() == {"refund_users": [2]}
    again = _open(ctl, app_port, "CRM_DEAL_DETAIL_TAB", shop["deal_id"], user_id=2)
    assert again.boot["user"]["can_refund"] is True
