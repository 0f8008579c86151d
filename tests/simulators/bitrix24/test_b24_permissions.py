"""Per-user CRM permissions: what a user may not read is left out of lists and refused by id."""

from __future__ import annotations

from .conftest import Client

CLERK = 3  # Carol: not an administrator


def _setup(b24: Client) -> dict[str, int]:
    """Two deals (one assigned to the clerk) with an invoice, a payment and a product row each."""
    out: dict[str, int] = {}
    for name, owner in (("mine", CLERK), ("other", 1)):
        deal = b24.ctl("POST", "deals", {"fields": {"title": name, "opportunity": 10}})
        b24.ok(
            "crm.item.update",
            {"entityTypeId": 2, "id": deal["id"], "fields": {"assignedById": owner}},
        )
        inv = b24.ctl("POST", "invoices", {"fields": {"opportunity": 10}, "deal_id": deal["id"]})
        b24.ok(
            "crm.item.update",
            {"entityTypeId": 31, "id": inv["id"], "fields": {"assignedById": owner}},
        )
        rows = [{"productName": "Tea", "price": 10, "quantity": 1}]
        b24.ok(
            "crm.item.productrow.set",
            {"ownerType": "D", "ownerId": deal["id"], "productRows": rows},
        )
        out[f"{name}_deal"], out[f"{name}_invoice"] = deal["id"], inv["id"]
        out[f"{name}_payment"] = b24.ok(
            "crm.item.payment.add", {"entityTypeId": 2, "entityId": deal["id"]}
        )
    return out


def test_without_rules_everyone_may_do_everything(b24: Client) -> None:
    ids = _setup(b24)
    clerk = b24.issue(CLERK)["access_token"]
    assert b24.ok("crm.item.get", {"entityTypeId": 2, "id": ids["other_deal"]}, clerk)["item"]
    assert b24.ctl("GET", "permissions") == {}


def test_read_own_only_hides_and_refuses_the_others_documents(b24: Client) -> None:
    ids = _setup(b24)
    for type_id in (2, 31):
        levels = b24.ctl(
            "PUT",
            "permissions",
            {
                "user_id": CLERK,
                "entityTypeId": type_id,
                "read": "own",
                "add": "none",
                "write": "own",
            },
        )
        assert levels == {"read": "own", "add": "none", "write": "own", "delete": "all"}
    clerk = b24.issue(CLERK)["access_token"]
    denied = {"error": "ACCESS_DENIED", "error_description": "Access denied"}
    # By id: refused, with the code crm.item.* documents.
    for type_id, key in ((2, "other_deal"), (31, "other_invoice")):
        r = b24.call("crm.item.get", {"entityTypeId": type_id, "id": ids[key]}, clerk)
        assert (r.status_code, r.json()) == (403, denied)
        r = b24.call(
            "crm.item.update",
            {"entityTypeId": type_id, "id": ids[key], "fields": {"title": "x"}},
            clerk,
        )
        assert (r.status_code, r.json()) == (403, denied)
    assert b24.ok("crm.item.get", {"entityTypeId": 2, "id": ids["mine_deal"]}, clerk)["item"]
    # Lists leave them out.
    listed = b24.ok("crm.item.list", {"entityTypeId": 31}, clerk)["items"]
    assert [i["id"] for i in listed] == [ids["mine_invoice"]]
    deals = b24.ok("crm.deal.list", {}, clerk)
    assert [int(d["ID"]) for d in deals] == [ids["mine_deal"]]
    # The old API says it with an empty code.
    r = b24.call("crm.deal.get", {"id": ids["other_deal"]}, clerk)
    assert r.json() == {"error": "", "error_description": "Access denied"}
    # No add right: nothing is created.
    r = b24.call(
        "crm.item.add", {"entityTypeId": 31, "fields": {"parentId2": ids["mine_deal"]}}, clerk
    )
    assert r.json()["error"] == "ACCESS_DENIED"
    # Product rows and payments follow their document.
    r = b24.call(
        "crm.item.productrow.list",
        {"filter": {"=ownerType": "D", "=ownerId": ids["other_deal"]}},
        clerk,
    )
    assert r.json()["error"] == "ACCESS_DENIED"
    r = b24.call("crm.item.payment.list", {"entityTypeId": 2, "entityId": ids["other_deal"]}, clerk)
    assert (r.status_code, r.json()) == (
        400,
        {"error": 0, "error_description": "Insufficient permissions"},
    )
    r = b24.call("crm.item.payment.pay", {"id": ids["other_payment"]}, clerk)
    assert r.json()["error"] == 0
    assert b24.ok("crm.item.payment.list", {"entityTypeId": 2, "entityId": ids["mine_deal"]}, clerk)
    # An administrator's token sees everything whatever the rules.
    assert b24.ok("crm.item.get", {"entityTypeId": 2, "id": ids["other_deal"]})["item"]


def test_rules_are_checked_and_reset(b24: Client) -> None:
    r = b24.http.put(
        b24.urls["control"] + "permissions",
        json={"user_id": CLERK, "entityTypeId": 2, "read": "some"},
    )
    assert r.status_code == 400 and "unknown" in r.json()["error"]
    b24.ctl("PUT", "permissions", {"user_id": CLERK, "entityTypeId": 2, "read": "none"})
    assert b24.ctl("GET", "permissions") == {str(CLERK): {"2": {"read": "none"}}}
    b24.ctl("DELETE", "permissions")
    assert b24.ctl("GET", "permissions") == {}


def test_the_admin_right_can_be_taken_away_and_given(b24: Client) -> None:
    anna = b24.issue(1)["access_token"]
    assert b24.ok("user.admin", {}, anna) is True
    assert b24.ctl("PUT", "users/1/admin", {"admin": False}) == {"admins": []}
    assert b24.ok("user.admin", {}, anna) is False  # the same token, asked again
    assert b24.ok("profile", {}, anna)["ADMIN"] is False
    b24.ctl("PUT", "users/3/admin", {"admin": True})
    assert b24.ok("user.admin", {}, b24.issue(3)["access_token"]) is True
