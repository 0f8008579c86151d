"""REST envelope, errors, input formats, pagination, batch, counters, webhooks."""

from __future__ import annotations

import requests

from .conftest import Client


def test_envelope_and_time(b24: Client) -> None:
    r = b24.call("user.current")
    body = r.json()
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/json")
    assert set(body) == {"result", "time"}
    assert set(body["time"]) == {
        "start",
        "finish",
        "duration",
        "processing",
        "date_start",
        "date_finish",
        "operating_reset_at",
        "operating",
    }


def test_error_shapes_and_statuses(b24: Client) -> None:
    r = b24.call("no.such.method")
    assert (r.status_code, r.json()) == (
        404,
        {"error": "ERROR_METHOD_NOT_FOUND", "error_description": "Method not found!"},
    )
    r = requests.post(b24.urls["rest"] + "user.current", timeout=5)
    assert r.status_code == 401 and r.json()["error"] == "NO_AUTH_FOUND"
    r = b24.call("user.current", token="garbage")
    assert r.status_code == 401 and r.json()["error"] == "invalid_token"
    r = b24.call("crm.deal.get", {"id": 999})
    assert (r.status_code, r.json()) == (400, {"error": "", "error_description": "Not found"})
    narrow = b24.issue(1, scope="user_brief")["access_token"]
    r = b24.call("crm.deal.list", token=narrow)
    assert r.status_code == 403 and r.json()["error"] == "insufficient_scope"
    user2 = b24.issue(2)["access_token"]
    r = b24.call("bizproc.robot.list", token=user2)
    assert r.status_code == 403
    assert r.json() == {"error": "ACCESS_DENIED", "error_description": "Access denied!"}


def test_get_form_json_inputs_and_suffix(b24: Client) -> None:
    rest, tok = b24.urls["rest"], b24.token
    r = requests.post(
        rest + "crm.deal.add.json",
        data={"auth": tok, "fields[TITLE]": "Form deal", "fields[OPPORTUNITY]": "5"},
        timeout=5,
    )
    deal_id = r.json()["result"]
    r = requests.get(rest + "CRM.Deal.Get", params={"auth": tok, "ID": deal_id}, timeout=5)
    assert r.json()["result"]["TITLE"] == "Form deal"
    assert r.json()["result"]["OPPORTUNITY"] == "5.00"
    r = requests.get(
        rest + "crm.status.list",
        params={"auth": tok, "filter[ENTITY_ID]": "DEAL_STAGE_1"},
        timeout=5,
    )
    assert {s["STATUS_ID"] for s in r.json()["result"]} >= {"C1:NEW", "C1:WON"}
    item = b24.ok(
        "crm.item.add", {"entityTypeId": 31, "fields": {"title": "Json", "parentId2": deal_id}}
    )["item"]
    assert item["parentId2"] == deal_id
    r = requests.post(
        rest + "crm.item.list",
        data={
            "auth": tok,
            "entityTypeId": "31",
            "filter[parentId2]": str(deal_id),
            "select[]": "id",
        },
        timeout=5,
    )
    assert r.json()["result"]["items"] == [{"id": item["id"]}]


def test_pagination_next_total(b24: Client) -> None:
    for i in range(120):
        b24.ctl("POST", "deals", {"fields": {"title": f"D{i}"}})
    r = b24.call("crm.deal.list", {"select": ["ID"]}).json()
    assert len(r["result"]) == 50 and r["total"] == 120 and r["next"] == 50
    r = b24.call("crm.deal.list", {"start": 100}).json()
    assert len(r["result"]) == 20 and r["total"] == 120 and "next" not in r
    r = b24.call("crm.item.list", {"entityTypeId": 2, "start": 50}).json()
    assert len(r["result"]["items"]) == 50 and r["next"] == 100
    r = b24.call("crm.deal.list", {"start": -1}).json()
    assert len(r["result"]) == 50 and "total" not in r and "next" not in r


def test_batch_substitution_errors_and_halt(b24: Client) -> None:
    deal = b24.ctl("POST", "deals", {"fields": {"title": "Batch"}})
    cmd = {
        "get": f"crm.deal.get?id={deal['id']}",
        "upd": "crm.deal.update?id=$result[get][ID]&fields[TITLE]=Renamed",
        "stages": "crm.status.list?filter[ENTITY_ID]=DEAL_STAGE",
        "bad": "crm.deal.get?id=0",
        "again": "crm.deal.get?id=$result[get][ID]",
    }
    body = b24.call("batch", {"halt": 0, "cmd": cmd}).json()
    res = body["result"]
    assert res["result"]["upd"] is True
    assert res["result"]["again"]["TITLE"] == "Renamed"
    assert res["result_error"] == {
        "bad": {"error": "", "error_description": "ID is not defined or invalid."}
    }
    assert res["result_total"] == {"stages": 8}
    assert res["result_next"] == []
    assert set(res["result_time"]) == {"get", "upd", "stages", "again"}
    halted = b24.call(
        "batch", {"halt": 1, "cmd": {"a": "crm.deal.get?id=0", "b": "user.current"}}
    ).json()["result"]
    assert halted["result"] == [] and list(halted["result_error"]) == ["a"]
    too_many = b24.call("batch", {"cmd": {str(i): "user.current" for i in range(51)}})
    assert too_many.status_code == 400
    assert too_many.json()["error"] == "ERROR_BATCH_LENGTH_EXCEEDED"
    nested = b24.call("batch", {"cmd": {"x": "batch?cmd[y]=user.current"}}).json()["result"]
    assert nested["result_error"]["x"]["error"] == "ERROR_BATCH_METHOD_NOT_ALLOWED"


def test_batch_as_form_with_cmd_brackets(b24: Client) -> None:
    r = requests.post(
        b24.urls["rest"] + "batch",
        data={"auth": b24.token, "cmd[me]": "user.current", "cmd[admin]": "user.admin"},
        timeout=5,
    )
    assert r.json()["result"]["result"] == {"me": r.json()["result"]["result"]["me"], "admin": True}


def test_request_counters(b24: Client) -> None:
    b24.ctl("DELETE", "requests")
    b24.ok("user.current")
    b24.ok("user.current")
    b24.ok("batch", {"cmd": {"a": "user.admin", "b": "user.admin", "c": "app.info"}})
    counts = b24.ctl("GET", "requests")
    assert counts["requests"] == {"user.current": 2, "batch": 1}
    assert counts["batch_commands"] == {"user.admin": 2, "app.info": 1}


def test_webhook_cannot_do_app_things(b24: Client) -> None:
    hook = b24.ctl("POST", "webhook", {"user_id": 1})["url"]
    assert requests.get(hook + "user.current.json", timeout=5).json()["result"]["ID"] == "1"
    r = requests.post(hook + "bizproc.robot.list", timeout=5)
    assert r.status_code == 403
    assert r.json()["error_description"] == "Application context required"
    r = requests.post(hook + "placement.bind", json={"PLACEMENT": "CRM_DEAL_DETAIL_TAB"}, timeout=5)
    assert r.json()["error"] == "WRONG_AUTH_TYPE"


def test_users(b24: Client) -> None:
    for uid, admin in ((1, True), (2, False), (3, False)):
        tok = b24.issue(uid)["access_token"]
        assert b24.ok("user.admin", token=tok) is admin
        assert b24.ok("user.current", token=tok)["ID"] == str(uid)
    users = b24.call("user.get", {"filter": {"ID": [1, 3]}}).json()
    assert [u["ID"] for u in users["result"]] == ["1", "3"] and users["total"] == 2
    assert "EMAIL" not in users["result"][0]
    assert b24.call("user.get", {"filter": {"ID": 99}}).json()["result"] == []
