"""Smart invoices bound to deals, product rows, payments, timeline comments, notifications."""

from __future__ import annotations

from .conftest import Client


def test_invoices_with_parent_deal_and_stages(b24: Client) -> None:
    deal = b24.ctl("POST", "deals", {"fields": {"title": "Deal", "opportunity": 100}})
    cats = b24.ok("crm.category.list", {"entityTypeId": 31})["categories"]
    cat = cats[0]["id"]
    stages = b24.ok("crm.status.list", {"filter": {"ENTITY_ID": f"SMART_INVOICE_STAGE_{cat}"}})
    success = [s["STATUS_ID"] for s in stages if s["EXTRA"]["SEMANTICS"] == "success"]
    assert success == [f"DT31_{cat}:P"]
    inv = b24.ok(
        "crm.item.add",
        {
            "entityTypeId": 31,
            "fields": {
                "parentId2": deal["id"],
                "opportunity": 100.0,
                "currencyId": "EUR",
                "isManualOpportunity": "Y",
            },
        },
    )["item"]
    assert inv["title"] == f"Invoice #{inv['id']}" and inv["stageId"] == f"DT31_{cat}:N"
    assert inv["entityTypeId"] == 31 and inv["stageSemanticId"] == "P"
    listed = b24.ok("crm.item.list", {"entityTypeId": 31, "filter": {"parentId2": deal["id"]}})
    assert [i["id"] for i in listed["items"]] == [inv["id"]]
    upd = b24.ok(
        "crm.item.update", {"entityTypeId": 31, "id": inv["id"], "fields": {"stageId": success[0]}}
    )["item"]
    assert upd["stageSemanticId"] == "S"
    r = b24.call(
        "crm.item.update", {"entityTypeId": 31, "id": inv["id"], "fields": {"stageId": "NOPE"}}
    )
    assert r.json()["error"] == "CRM_FIELD_ERROR_VALUE_NOT_VALID"
    r = b24.call("crm.item.get", {"entityTypeId": 31, "id": 999})
    assert r.json() == {"error": "NOT_FOUND", "error_description": "Element not found"}
    assert b24.call("crm.item.get", {"entityTypeId": 5, "id": 1}).json()["error"] == (
        "ENTITY_TYPE_NOT_SUPPORTED"
    )
    assert (
        b24.call("crm.item.list", {"entityTypeId": 31, "filter": {"bogus": 1}}).json()["error"]
        == "INVALID_ARG_VALUE"
    )


def test_product_rows_and_payments(b24: Client) -> None:
    deal = b24.ctl("POST", "deals", {"fields": {"title": "Deal"}})
    inv = b24.ctl("POST", "invoices", {"deal_id": deal["id"], "fields": {"title": "Inv"}})
    rows = b24.ok(
        "crm.item.productrow.set",
        {
            "ownerType": "SI",
            "ownerId": inv["id"],
            "productRows": [{"productName": "Card payment", "price": 40.0, "quantity": 2}],
        },
    )
    assert rows["productRows"][0]["ownerType"] == "SI"
    got = b24.ok("crm.item.get", {"entityTypeId": 31, "id": inv["id"]})["item"]
    assert got["opportunity"] == 80.0
    r = b24.call("crm.item.productrow.set", {"ownerType": "SI", "ownerId": 999, "productRows": []})
    assert r.json()["error"] == "OWNER_NOT_FOUND"
    pid = b24.ok("crm.item.payment.add", {"entityTypeId": 31, "entityId": inv["id"]})
    assert isinstance(pid, int)
    pay = b24.ok("crm.item.payment.get", {"id": pid})
    assert pay["paid"] == "N" and pay["sum"] == 0 and pay["accountNumber"].endswith("/1")
    assert b24.ok(
        "crm.item.payment.product.add",
        {"paymentId": pid, "rowId": rows["productRows"][0]["id"], "quantity": 2},
    )
    assert b24.ok("crm.item.payment.update", {"id": pid, "fields": {"paySystemId": 9}}) is True
    assert b24.ok("crm.item.payment.pay", {"id": pid}) is True
    listed = b24.ok("crm.item.payment.list", {"entityTypeId": 31, "entityId": inv["id"]})
    assert listed[0]["paid"] == "Y" and listed[0]["sum"] == 80.0
    assert listed[0]["paySystemName"] == "Card terminal" and listed[0]["empPaidId"] == 1
    assert b24.ok("crm.item.payment.unpay", {"id": pid}) is True
    assert b24.ok("crm.item.payment.get", {"id": pid})["paid"] == "N"
    r = b24.call("crm.item.payment.get", {"id": 424242})
    assert (r.status_code, r.json()["error"]) == (400, 0)
    r = b24.call("crm.item.payment.get", {})
    assert r.json()["error"] == 100
    assert b24.call("crm.item.payment.add", {"entityTypeId": 1, "entityId": 1}).json()["error"] == 0
    assert b24.ok("crm.item.payment.delete", {"id": pid}) is True


def test_timeline_comment_and_notify(b24: Client) -> None:
    deal = b24.ctl("POST", "deals", {"fields": {"title": "Deal"}})
    cid = b24.ok(
        "crm.timeline.comment.add",
        {"fields": {"ENTITY_TYPE": "deal", "ENTITY_ID": deal["id"], "COMMENT": "POS refund"}},
    )
    assert isinstance(cid, int)
    r = b24.call("crm.timeline.comment.add", {"FIELDS": {"ENTITY_TYPE": "deal"}})
    assert r.status_code == 400
    r = b24.call(
        "crm.timeline.comment.add",
        {"fields": {"ENTITY_TYPE": "deal", "ENTITY_ID": 999, "COMMENT": "x"}},
    )
    assert r.json()["error"] == "OWNER_NOT_FOUND"
    nid = b24.ok("im.notify", {"USER_ID": 2, "TYPE": "SYSTEM", "MESSAGE": "approved", "TAG": "t"})
    b24.ok("im.notify", {"to": 2, "TYPE": "SYSTEM", "MESSAGE": "replaced", "TAG": "t"})
    notes = b24.ctl("GET", "notifications")
    assert len(notes) == 1 and notes[0]["message"].endswith("#BR#replaced") and nid
    assert b24.call("im.notify", {"MESSAGE": "x"}).json()["error"] == "USER_ID_EMPTY"
    assert b24.call("im.notify", {"USER_ID": 2}).json()["error"] == "MESSAGE_EMPTY"
