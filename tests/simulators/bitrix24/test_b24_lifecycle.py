"""Install senders (frame and ONAPPINSTALL), ONAPPUPDATE, ONAPPUNINSTALL, placements, events."""

from __future__ import annotations

import json
import re

import requests

from tests.helpers.receivers import FormPostReceiver

from .conftest import ROBOT, Client


def test_install_frame_post(b24: Client, receiver: FormPostReceiver) -> None:
    out = b24.ctl("POST", "install", {"mode": "frame", "user_id": 1})
    assert out["status"] == 200
    req = receiver.wait_for(lambda rs: len(rs) == 1)[0]
    assert req["path"] == "/bitrix/install"
    assert set(req["args"]) == {"DOMAIN", "PROTOCOL", "LANG", "APP_SID"}
    assert req["args"]["DOMAIN"] == b24.urls["portal"].split("//")[1]
    assert req["args"]["PROTOCOL"] == "0" and re.fullmatch(r"[0-9a-f]{32}", req["args"]["APP_SID"])
    form = req["form"]
    assert form["PLACEMENT"] == "DEFAULT" and "PLACEMENT_OPTIONS" not in form
    assert set(form) == {
        "AUTH_ID",
        "AUTH_EXPIRES",
        "REFRESH_ID",
        "SERVER_ENDPOINT",
        "APPLICATION_TOKEN",
        "APPLICATION_SCOPE",
        "member_id",
        "status",
        "PLACEMENT",
    }
    assert form["AUTH_EXPIRES"] == "3600" and form["status"] == "L"
    assert b24.ok("app.info", token=form["AUTH_ID"])["INSTALLED"] is False
    b24.ctl("POST", "install/finish")
    assert b24.ok("app.info", token=form["AUTH_ID"])["INSTALLED"] is True


def test_install_event_post(b24: Client, receiver: FormPostReceiver) -> None:
    b24.ctl("POST", "install", {"mode": "event"})
    req = receiver.wait_for(lambda rs: len(rs) == 1)[0]
    form = req["form"]
    assert req["path"] == "/bitrix/install"
    assert req["content_type"] == "application/x-www-form-urlencoded"
    assert form["event"] == "ONAPPINSTALL"
    assert {k: form[f"data[{k}]"] for k in ("VERSION", "ACTIVE", "INSTALLED", "LANGUAGE_ID")} == {
        "VERSION": "1",
        "ACTIVE": "Y",
        "INSTALLED": "Y",
        "LANGUAGE_ID": "en",
    }
    auth = {k[5:-1] for k in form if k.startswith("auth[")}
    assert auth == {
        "domain",
        "scope",
        "access_token",
        "refresh_token",
        "expires_in",
        "server_endpoint",
        "status",
        "client_endpoint",
        "member_id",
        "application_token",
    }
    oauth = requests.get(
        b24.urls["oauth"] + "/rest/app.info", params={"auth": form["auth[access_token]"]}, timeout=5
    ).json()
    assert oauth["result"]["install"]["installed"] is True


def test_update_and_uninstall_events(b24: Client, receiver: FormPostReceiver) -> None:
    b24.ctl("POST", "install", {"mode": "event"})
    for event in ("ONAPPUPDATE", "ONAPPUNINSTALL"):
        assert b24.ok("event.bind", {"event": event, "handler": receiver.base_url + "/events"})
    b24.ok("bizproc.robot.add", {**ROBOT, "HANDLER": receiver.base_url + "/h"})
    old_token = b24.ctl("GET", "state")["app"]["application_token"]
    out = b24.ctl("POST", "app/update", {})
    req = receiver.wait_for(lambda rs: len(rs) == 2)[1]
    form = req["form"]
    assert req["path"] == "/events" and form["event"] == "ONAPPUPDATE"
    assert form["data[VERSION]"] == "2" and form["data[PREVIOUS_VERSION]"] == "1"
    assert form["auth[application_token]"] == out["application_token"] != old_token
    assert form["auth[access_token]"] and form["event_handler_id"]
    assert b24.ok("bizproc.robot.list") == []
    assert b24.ok("event.get") == []
    b24.ok("event.bind", {"event": "ONAPPUNINSTALL", "handler": receiver.base_url + "/events"})
    b24.ctl("POST", "app/uninstall", {"clean": True})
    form = receiver.wait_for(lambda rs: len(rs) == 3)[2]["form"]
    assert form["event"] == "ONAPPUNINSTALL" and form["data[CLEAN]"] == "1"
    assert {k[5:-1] for k in form if k.startswith("auth[")} == {
        "domain",
        "server_endpoint",
        "client_endpoint",
        "member_id",
        "application_token",
    }
    assert b24.call("user.current").status_code == 401


def test_event_bind_rules(b24: Client, receiver: FormPostReceiver) -> None:
    h = receiver.base_url + "/ev"
    assert b24.ok("event.bind", {"EVENT": "onCrmDealUpdate", "HANDLER": h}) is True
    r = b24.call("event.bind", {"event": "ONCRMDEALUPDATE", "handler": h})
    assert r.json()["error"] == "ERROR_CORE"
    r = b24.call("event.bind", {"event": "ONNOSUCHEVENT", "handler": h})
    assert r.json() == {"error": "ERROR_EVENT_NOT_FOUND", "error_description": "Event not found"}
    r = b24.call("event.bind", {"event": "ONCRMDEALADD", "handler": "http://localhost/x"})
    assert r.json()["error"] == "ERROR_WRONG_HANDLER_URL"
    assert b24.ok("event.get") == [
        {"event": "ONCRMDEALUPDATE", "handler": h, "auth_type": "0", "offline": 0}
    ]
    b24.ctl("POST", "install/finish")
    deal = b24.ctl("POST", "deals", {"fields": {"title": "e"}})
    b24.ok("crm.deal.update", {"id": deal["id"], "fields": {"TITLE": "changed"}})
    form = receiver.wait_for(lambda rs: len(rs) == 1)[0]["form"]
    assert form["event"] == "ONCRMDEALUPDATE" and form["data[FIELDS][ID]"] == str(deal["id"])
    assert b24.ok("event.unbind", {"event": "ONCRMDEALUPDATE", "handler": h}) == {"count": 1}


def test_placement_and_portal_page(b24: Client, receiver: FormPostReceiver) -> None:
    h = receiver.base_url + "/b24/deal-tab"
    r = b24.call("placement.bind", {"HANDLER": h})
    assert r.json()["error"] == "ERROR_ARGUMENT" and r.json()["argument"] == "PLACEMENT"
    assert (
        b24.ok("placement.bind", {"PLACEMENT": "CRM_DEAL_DETAIL_TAB", "HANDLER": h, "TITLE": "POS"})
        is True
    )
    assert b24.ok("placement.get")[0]["handler"] == h
    deal = b24.ctl("POST", "deals", {"fields": {"title": "Card"}})
    page = requests.get(f"{b24.urls['portal']}/crm/deal/details/{deal['id']}/", timeout=5).text
    assert "not fully installed" in page and h not in page
    b24.ctl("POST", "install/finish")
    page = requests.get(
        f"{b24.urls['portal']}/crm/deal/details/{deal['id']}/?user=2", timeout=5
    ).text
    # The frame is named DOMAIN|PROTOCOL|APP_SID, which the JS SDK reads from window.name.
    assert re.search(r'target="127\.0\.0\.1:\d+\|0\|[0-9a-f]{32}"', page)
    assert "PLACEMENT_OPTIONS" in page and "CRM_DEAL_DETAIL_TAB" in page
    out = b24.ctl(
        "POST",
        "placements/open",
        {"placement": "CRM_DEAL_DETAIL_TAB", "id": deal["id"], "user_id": 2},
    )
    assert out["status"] == 200
    form = receiver.wait_for(lambda rs: len(rs) == 1)[0]["form"]
    assert json.loads(form["PLACEMENT_OPTIONS"]) == {"ID": str(deal["id"])}
    assert b24.ok("user.current", token=form["AUTH_ID"])["ID"] == "2"
    assert b24.ok("user.admin", token=form["AUTH_ID"]) is False
    assert b24.ok("placement.unbind", {"PLACEMENT": "CRM_DEAL_DETAIL_TAB"}) == {"count": 1}


def test_install_page_frames_install_url_with_sdk_responder(b24: Client) -> None:
    page = requests.get(b24.urls["portal"] + "/install/?user=1", timeout=5).text
    assert b24.sim.portal.install_url() in page and 'name="PLACEMENT" value="DEFAULT"' in page
    assert "getInitData" in page and "setInstallFinish" in page and "<script src" not in page
