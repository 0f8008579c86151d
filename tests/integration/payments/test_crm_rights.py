"""The frame acts as its user: Bitrix24's CRM permissions and admin right decide, not the app.

Carol (user 3, no admin) may read and change only the deals and invoices she is responsible for
(the simulator's per-user permissions, `PUT /_sim/permissions`). Everything goes through the
simulated portal over loopback: the frame POST, then the screen's API with the frame's token.
"""

from __future__ import annotations

from typing import Any

from bizproc_app.extensions import redis_conn
from tests.integration.payments.test_ui_api import _open

CAROL = 3
NOT_ALLOWED = "Bitrix24 does not let you see or change this deal or invoice."
ADMINS_ONLY = "Only portal administrators may do this."
OTHER_CARD = "This screen belongs to another deal or invoice: open the payment screen on that card."


def _own_only(ctl) -> None:
    for type_id in (2, 31):
        rights = {"read": "own", "add": "own", "write": "own"}
        ctl("PUT", "permissions", {"user_id": CAROL, "entityTypeId": type_id, **rights})


def _invoice(ctl, deal_id: int, title: str, owner: int) -> int:
    fields = {"title": title, "opportunity": 10, "currencyId": "AUD", "assignedById": owner}
    return int(ctl("POST", "invoices", {"fields": fields, "deal_id": deal_id})["id"])


def test_a_clerk_cannot_open_a_deal_bitrix24_hides_from_her(shop, ctl, app_port) -> None:
    _own_only(ctl)  # the shop's deal is the admin's
    sent = ctl(
        "POST",
        "placements/open",
        {"placement": "CRM_DEAL_DETAIL_TAB", "id": shop["deal_id"], "user_id": CAROL},
    )
    assert sent["status"] == 403, sent["response"][:300]
    assert "POS_BOOT" not in sent["response"]
    assert "does not let you see this deal" in sent["response"]


def test_the_screen_shows_a_clerk_only_what_bitrix24_lets_her_see(shop, ctl, app_port) -> None:
    fields = {"title": "Carol's", "currencyId": "AUD", "assignedById": CAROL}
    mine = int(ctl("POST", "deals", {"fields": fields})["id"])
    hers, others = _invoice(ctl, mine, "Hers", CAROL), _invoice(ctl, mine, "Anna's", 1)
    _own_only(ctl)
    frame = _open(ctl, app_port, "CRM_DEAL_DETAIL_TAB", mine, user_id=CAROL)
    assert frame.boot["user"] == {"id": CAROL, "name": "Carol Sales", "admin": False,
                                  "can_refund": False}  # fmt: skip
    doc = frame.call("GET", f"/deals/{mine}")
    assert doc.status_code == 200, doc.text
    assert [i["id"] for i in doc.json()["invoices"]] == [hers]  # Bitrix24 left Anna's out
    # The other invoice of her own deal: Bitrix24 refuses her, so the screen does.
    pay = frame.call("POST", "/payments", {"target": {"kind": "invoice", "id": others},
                                           "terminal_id": shop["terminal_id"]})  # fmt: skip
    assert (pay.status_code, pay.json()["error"]) == (403, NOT_ALLOWED)
    # Another card by id, from this frame: refused before Bitrix24 is even asked.
    other_deal = frame.call("GET", f"/deals/{shop['deal_id']}")
    assert (other_deal.status_code, other_deal.json()["error"]) == (403, OTHER_CARD)
    # Her right to the deal itself is taken away while the tab is open.
    ctl("PUT", "permissions", {"user_id": CAROL, "entityTypeId": 2, "read": "none"})
    gone = frame.call("GET", f"/deals/{mine}")
    assert (gone.status_code, gone.json()["error"]) == (403, NOT_ALLOWED)
    added = frame.call("POST", f"/deals/{mine}/invoices", {"title": "Tea", "amount": "3.00"})
    assert (added.status_code, added.json()["error"]) == (403, NOT_ALLOWED)
    crm: dict[str, Any] = ctl("GET", "crm")
    assert [i["title"] for i in crm["invoices"] if i.get("parentId2") == mine] == ["Hers", "Anna's"]


def test_an_admin_whose_right_is_taken_away_loses_admin_routes_within_minutes(
    shop, ctl, app_port, served_app
) -> None:
    ctl("PUT", f"users/{CAROL}/admin", {"admin": True})
    frame = _open(ctl, app_port, "CRM_DEAL_DETAIL_TAB", shop["deal_id"], user_id=CAROL)
    assert frame.boot["user"]["admin"] is True
    assert frame.call("GET", "/settings").status_code == 200
    ctl("PUT", f"users/{CAROL}/admin", {"admin": False})
    # Within ADMIN_RECHECK_SECONDS the answer Bitrix24 gave when the frame opened still holds;
    # then (here: the recheck marks dropped, as after five minutes) it is asked again.
    with served_app.app_context():
        for mark in redis_conn.client.scan_iter("frame:*:admin-checked"):
            redis_conn.client.delete(mark)
    settings = frame.call("GET", "/settings")
    assert (settings.status_code, settings.json()["error"]) == (403, ADMINS_ONLY)
    users = frame.call("PUT", "/refund-users", {"users": [CAROL]})
    assert users.status_code == 403
    # The answer is remembered only when it is yes: a right given back counts at once.
    ctl("PUT", f"users/{CAROL}/admin", {"admin": True})
    assert frame.call("GET", "/settings").status_code == 200
