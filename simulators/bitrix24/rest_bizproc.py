"""REST methods bizproc.robot.*, bizproc.activity.*, bizproc.event.send, workflow.*."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .auth import Caller
from .registry import APP_CONTEXT, method
from .util import ApiError, to_int, upper_keys

if TYPE_CHECKING:
    from .portal import Portal

CODE_RE = re.compile(r"^[a-z0-9.\-_]+$", re.I)
PROP_RE = re.compile(r"^[a-z][a-z0-9_]*$", re.I)
FIELDS = (
    "HANDLER",
    "AUTH_USER_ID",
    "USE_SUBSCRIPTION",
    "USE_PLACEMENT",
    "NAME",
    "DESCRIPTION",
    "PROPERTIES",
    "RETURN_PROPERTIES",
    "DOCUMENT_TYPE",
    "FILTER",
    "PLACEMENT_HANDLER",
)


def fail(text: str) -> ApiError:
    """An ERROR_ACTIVITY_VALIDATION_FAILURE."""
    return ApiError("ERROR_ACTIVITY_VALIDATION_FAILURE", text, 400)


def check_handler(portal: Portal, url: Any) -> None:
    """http/https only, same host as the app, <= 1000 chars."""
    text = str(url or "")
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https"):
        raise ApiError("ERROR_UNSUPPORTED_PROTOCOL", "Unsupported handler protocol", 400)
    app_host = urlsplit(portal.cfg.app_url).hostname
    if not parts.hostname or parts.hostname != app_host or len(text) > 1000:
        raise ApiError("ERROR_WRONG_HANDLER_URL", "Wrong handler URL", 400)


def check_props(value: Any) -> dict[str, Any]:
    """Validate a PROPERTIES / RETURN_PROPERTIES map."""
    if value in (None, "", []):
        return {}
    if not isinstance(value, dict):
        raise fail("Wrong properties array!")
    for key, prop in value.items():
        if not PROP_RE.match(str(key)):
            raise fail(f"Wrong property key ({key})!")
        if not isinstance(prop, dict) or not prop.get("Name"):
            raise fail(f"Empty property NAME ({key})!")
    if len(json.dumps(value)) >= 65535:
        raise fail("Wrong properties array!")
    return value


def validate(portal: Portal, data: dict[str, Any], robot: bool, partial: bool) -> dict[str, Any]:
    """Validate add/update fields the way RestService does; return the normalised fields."""
    out: dict[str, Any] = {}
    if not partial:
        code = str(data.get("CODE") or "")
        if not code:
            raise fail("Empty activity code!")
        if not CODE_RE.match(code) or len(code) > 128:
            raise fail("Wrong activity code!")
        out["CODE"] = code
    if not partial or "HANDLER" in data:
        check_handler(portal, data.get("HANDLER"))
        out["HANDLER"] = str(data["HANDLER"])
    if not partial or "NAME" in data:
        name = data.get("NAME")
        if not name or name == "Title":
            raise fail("Empty activity NAME!")
        out["NAME"] = name if isinstance(name, dict) else {"*": str(name)}
    for key in ("PROPERTIES", "RETURN_PROPERTIES"):
        if key in data:
            out[key] = check_props(data[key])
    if "DOCUMENT_TYPE" in data and data["DOCUMENT_TYPE"] and not robot:
        dt = data["DOCUMENT_TYPE"]
        if not isinstance(dt, list) or len(dt) != 3:
            raise fail("Wrong activity DOCUMENT_TYPE!")
    if "FILTER" in data and data["FILTER"] and not isinstance(data["FILTER"], dict | list):
        raise fail("Wrong activity FILTER!")
    if str(data.get("USE_PLACEMENT", "")).upper() == "Y":
        check_handler(portal, data.get("PLACEMENT_HANDLER"))
    for key in (
        "DESCRIPTION",
        "DOCUMENT_TYPE",
        "FILTER",
        "PLACEMENT_HANDLER",
        "USE_PLACEMENT",
        "USE_SUBSCRIPTION",
    ):
        if key in data:
            out[key] = data[key]
    if "AUTH_USER_ID" in data:
        out["AUTH_USER_ID"] = to_int(data["AUTH_USER_ID"], 0)
    return out


def _sync_placement(portal: Portal, rec: dict[str, Any]) -> None:
    """Keep the BIZPROC_ACTIVITY_PROPERTIES_DIALOG placement in step with USE_PLACEMENT."""
    portal.placements = [
        p
        for p in portal.placements
        if not (
            p["placement"] == "BIZPROC_ACTIVITY_PROPERTIES_DIALOG"
            and p.get("activity") == rec["CODE"]
        )
    ]
    if str(rec.get("USE_PLACEMENT", "")).upper() == "Y":
        portal.placements.append(
            {
                "placement": "BIZPROC_ACTIVITY_PROPERTIES_DIALOG",
                "handler": rec["PLACEMENT_HANDLER"],
                "title": "",
                "description": "",
                "options": [],
                "langAll": {},
                "activity": rec["CODE"],
            }
        )


def _add(portal: Portal, params: dict[str, Any], robot: bool) -> bool:
    """bizproc.*.add."""
    data = upper_keys(params)
    if not data:
        raise fail("Empty data!")
    rec: dict[str, Any] = {
        "IS_ROBOT": "Y" if robot else "N",
        "AUTH_USER_ID": 0,
        "USE_SUBSCRIPTION": "",
        "DESCRIPTION": "",
        "PROPERTIES": {},
        "RETURN_PROPERTIES": {},
        "DOCUMENT_TYPE": None,
        "FILTER": None,
        "USE_PLACEMENT": "N",
        "PLACEMENT_HANDLER": "",
    }
    rec.update(validate(portal, data, robot, partial=False))
    if rec["CODE"] in portal.activities:
        raise ApiError(
            "ERROR_ACTIVITY_ALREADY_INSTALLED", "Activity or Robot already installed!", 400
        )
    portal.activities[rec["CODE"]] = rec
    _sync_placement(portal, rec)
    return True


def _find(portal: Portal, params: dict[str, Any], robot: bool) -> dict[str, Any]:
    """The registered record of this kind named by CODE."""
    code = str(upper_keys(params).get("CODE") or "")
    rec = portal.activities.get(code)
    if rec is None or (rec["IS_ROBOT"] == "Y") != robot:
        raise ApiError("ERROR_ACTIVITY_NOT_FOUND", "Activity or Robot not found!", 400)
    return rec


def _update(portal: Portal, params: dict[str, Any], robot: bool) -> bool:
    """bizproc.*.update."""
    rec = _find(portal, params, robot)
    fields = upper_keys(upper_keys(params).get("FIELDS"))
    fields = {k: v for k, v in fields.items() if k in FIELDS}
    if not fields:
        raise fail("No fields to update")
    rec.update(validate(portal, fields, robot, partial=True))
    _sync_placement(portal, rec)
    return True


def _delete(portal: Portal, params: dict[str, Any], robot: bool) -> bool:
    """bizproc.*.delete."""
    rec = _find(portal, params, robot)
    del portal.activities[rec["CODE"]]
    rec["USE_PLACEMENT"] = "N"
    _sync_placement(portal, rec)
    return True


def _list(portal: Portal, robot: bool) -> list[str]:
    """bizproc.*.list: codes only."""
    return [c for c, r in portal.activities.items() if (r["IS_ROBOT"] == "Y") == robot]


for _kind, _robot in (("robot", True), ("activity", False)):

    def _register(kind: str = _kind, robot: bool = _robot) -> None:
        """Register the four management methods of one kind."""
        opts: dict[str, Any] = {"scope": "bizproc", "app_only": APP_CONTEXT, "admin": True}
        method(f"bizproc.{kind}.add", **opts)(lambda p, c, a: _add(p, a, robot))
        method(f"bizproc.{kind}.update", **opts)(lambda p, c, a: _update(p, a, robot))
        method(f"bizproc.{kind}.delete", **opts)(lambda p, c, a: _delete(p, a, robot))
        method(f"bizproc.{kind}.list", **opts)(lambda p, c, a: _list(p, robot))

    _register()


@method("bizproc.event.send", "bizproc")
def event_send(portal: Portal, caller: Caller, params: dict[str, Any]) -> bool:
    """Complete a waiting activity with return values."""
    data = upper_keys(params)
    portal.engine.event_send(
        data.get("EVENT_TOKEN"), data.get("RETURN_VALUES") or {}, str(data.get("LOG_MESSAGE") or "")
    )
    return True


@method("bizproc.activity.log", "bizproc")
def activity_log(portal: Portal, caller: Caller, params: dict[str, Any]) -> bool:
    """Write a workflow log line."""
    data = upper_keys(params)
    portal.engine.activity_log(data.get("EVENT_TOKEN"), str(data.get("LOG_MESSAGE") or ""))
    return True


@method("bizproc.workflow.instances", "bizproc", admin=True)
def wf_instances(portal: Portal, caller: Caller, params: dict[str, Any]) -> Any:
    """Running workflow instances."""
    from .values import document_ids

    return [
        {
            "ID": wf.id,
            "MODIFIED": wf.started,
            "OWNED_UNTIL": None,
            "MODULE_ID": "crm",
            "ENTITY": document_ids(wf.type_id, wf.item_id)[0][1],
            "DOCUMENT_ID": document_ids(wf.type_id, wf.item_id)[0][2],
            "STARTED": wf.started,
            "STARTED_BY": str(wf.user_id),
            "TEMPLATE_ID": "0",
        }
        for wf in portal.engine.workflows.values()
        if wf.status == "running"
    ]


@method("bizproc.workflow.terminate", "bizproc", admin=True)
def wf_terminate(portal: Portal, caller: Caller, params: dict[str, Any]) -> bool:
    """Terminate a workflow by ID."""
    data = upper_keys(params)
    wf = portal.engine.workflows.get(str(data.get("ID") or ""))
    if wf is None or wf.status != "running":
        raise ApiError("ERROR_WRONG_WORKFLOW_ID", "Workflow not found", 400)
    portal.engine.terminate(wf, str(data.get("STATUS") or "terminated by REST"))
    return True
