"""REST methods placement.* and event.* (app-context methods)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .auth import Caller
from .registry import WRONG_AUTH, method
from .rest_bizproc import check_handler
from .util import ApiError, to_int, upper_keys

if TYPE_CHECKING:
    from .portal import Portal

PLACEMENTS = [
    "CRM_DEAL_DETAIL_TAB",
    "CRM_DEAL_DETAIL_TOOLBAR",
    "CRM_DEAL_DETAIL_ACTIVITY",
    "CRM_DEAL_LIST_MENU",
    "CRM_DEAL_ROBOT_DESIGNER_TOOLBAR",
    "CRM_SMART_INVOICE_DETAIL_TAB",
    "CRM_SMART_INVOICE_DETAIL_TOOLBAR",
    "CRM_SMART_INVOICE_DETAIL_ACTIVITY",
    "CRM_SMART_INVOICE_LIST_MENU",
    "REST_APP_URI",
    "PAGE_BACKGROUND_WORKER",
]
EVENTS = {
    "ONAPPINSTALL": "",
    "ONAPPUPDATE": "",
    "ONAPPUNINSTALL": "",
    "ONAPPPAYMENT": "",
    "ONAPPTEST": "",
    "ONCRMDEALADD": "crm",
    "ONCRMDEALUPDATE": "crm",
    "ONCRMDEALDELETE": "crm",
    "ONCRMDYNAMICITEMADD": "crm",
    "ONCRMDYNAMICITEMUPDATE": "crm",
    "ONCRMDYNAMICITEMDELETE": "crm",
    "ONCRMTIMELINECOMMENTADD": "crm",
    "ONIMNOTIFYADD": "im",
}


def arg_error(portal: Portal, name: str) -> ApiError:
    """ERROR_ARGUMENT with the `argument` key."""
    return ApiError(
        "ERROR_ARGUMENT",
        f"Argument '{name}' is null or empty",
        portal.cfg.placement_error_status,
        argument=name,
    )


@method("placement.bind", "placement", app_only=WRONG_AUTH, admin=True)
def placement_bind(portal: Portal, caller: Caller, params: dict[str, Any]) -> Any:
    """Bind a placement handler."""
    up = upper_keys(params)
    code = str(up.get("PLACEMENT") or "").upper()
    if not code or code not in PLACEMENTS:
        raise arg_error(portal, "PLACEMENT")
    if code.startswith("CRM_") and "crm" not in caller.scope:
        raise ApiError(
            "insufficient_scope",
            "The request requires higher privileges than provided by the access token",
            403,
        )
    if not up.get("HANDLER"):
        raise arg_error(portal, "HANDLER")
    check_handler(portal, up["HANDLER"])
    same = [p for p in portal.placements if p["placement"] == code]
    if any(p["handler"] == up["HANDLER"] for p in same):
        raise ApiError("ERROR_CORE", "Unable to set placement handler: Handler already binded", 400)
    if len(same) >= 10:
        raise ApiError("ERROR_PLACEMENT_MAX_COUNT", "Placement max count exceeded", 400)
    options = up.get("OPTIONS") or []
    portal.placements.append(
        {
            "placement": code,
            "handler": str(up["HANDLER"]),
            "title": str(up.get("TITLE") or ""),
            "description": str(up.get("DESCRIPTION") or ""),
            "groupName": up.get("GROUP_NAME", ""),
            "options": [] if code.endswith("DETAIL_TAB") else options,
            "langAll": up.get("LANG_ALL") or {},
        }
    )
    return True


@method("placement.unbind", "placement", app_only=WRONG_AUTH, admin=True)
def placement_unbind(portal: Portal, caller: Caller, params: dict[str, Any]) -> Any:
    """Remove bindings of a placement (optionally one handler)."""
    up = upper_keys(params)
    code = str(up.get("PLACEMENT") or "").upper()
    if not code:
        raise arg_error(portal, "PLACEMENT")
    keep = [
        p
        for p in portal.placements
        if not (p["placement"] == code and (not up.get("HANDLER") or p["handler"] == up["HANDLER"]))
    ]
    count = len(portal.placements) - len(keep)
    portal.placements = keep
    return {"count": count}


@method("placement.get", "placement", app_only=WRONG_AUTH)
def placement_get(portal: Portal, caller: Caller, params: dict[str, Any]) -> Any:
    """This app's bound placements."""
    return [
        {k: v for k, v in p.items() if k != "activity"}
        for p in portal.placements
        if p["placement"] != "BIZPROC_ACTIVITY_PROPERTIES_DIALOG"
    ]


@method("placement.list", "placement", app_only=WRONG_AUTH)
def placement_list(portal: Portal, caller: Caller, params: dict[str, Any]) -> Any:
    """Placement codes available to the token's scopes."""
    return [p for p in PLACEMENTS if not p.startswith("CRM_") or "crm" in caller.scope]


def _handler_ok(portal: Portal, url: str) -> None:
    """event.bind handler URL checks (option event_handler_check)."""
    parts = urlsplit(url)
    mode = portal.cfg.event_handler_check
    if mode == "off":
        return
    if parts.scheme not in ("http", "https"):
        raise ApiError("ERROR_UNSUPPORTED_PROTOCOL", "Unsupported handler protocol", 400)
    if "." not in (parts.hostname or ""):
        raise ApiError("ERROR_WRONG_HANDLER_URL", "Wrong handler URL", 400)
    if mode == "app_host" and parts.hostname != urlsplit(portal.cfg.app_url).hostname:
        raise ApiError(
            "ERROR_HANDLER_URL_MATCH", "Handler URL host doesn't match application URL", 400
        )


def _event_args(portal: Portal, caller: Caller, params: dict[str, Any], verb: str) -> dict:
    """Common argument checks of event.bind / event.unbind."""
    up = upper_keys(params)
    name = str(up.get("EVENT") or "").upper()
    if not name:
        raise ApiError("ERROR_ARGUMENT", "Argument 'EVENT' is null or empty", 400, argument="EVENT")
    etype = str(up.get("EVENT_TYPE") or "online").lower()
    if etype not in ("online", "offline"):
        raise ApiError(
            "ERROR_ARGUMENT", "Value must be one of {online|offline}", 400, argument="EVENT_TYPE"
        )
    if etype == "online" and not up.get("HANDLER"):
        raise ApiError(
            "ERROR_ARGUMENT", "Argument 'HANDLER' is null or empty", 400, argument="HANDLER"
        )
    auth_type = up.get("AUTH_TYPE")
    if not caller.is_admin:
        if etype == "offline":
            raise ApiError(
                "ACCESS_DENIED",
                f"Access denied! Offline events {verb} requires administrator access rights",
                403,
            )
        if auth_type not in (None, "") and to_int(auth_type) != caller.user_id:
            raise ApiError(
                "ACCESS_DENIED",
                f"Access denied! Event {verb} with AUTH_TYPE requires administrator access rights",
                403,
            )
        auth_type = caller.user_id
    return {
        "event": name,
        "handler": str(up.get("HANDLER") or ""),
        "offline": int(etype == "offline"),
        "auth_type": auth_type,
        "connector": str(up.get("AUTH_CONNECTOR", "")),
    }


@method("event.bind", app_only=WRONG_AUTH)
def event_bind(portal: Portal, caller: Caller, params: dict[str, Any]) -> Any:
    """Bind an event handler."""
    a = _event_args(portal, caller, params, "binding")
    scope = EVENTS.get(a["event"])
    if scope is None or (scope and scope not in caller.scope):
        raise ApiError("ERROR_EVENT_NOT_FOUND", "Event not found", 400)
    if not a["offline"]:
        _handler_ok(portal, a["handler"])
    a["auth_type"] = to_int(a["auth_type"], 0) or 0
    for b in portal.bindings:
        if (b["event"], b["handler"], b["auth_type"], b["offline"], b["connector"]) == (
            a["event"],
            a["handler"],
            a["auth_type"],
            a["offline"],
            a["connector"],
        ):
            raise ApiError("ERROR_CORE", "Unable to set event handler: Handler already binded", 400)
    portal.bindings.append({**a, "id": portal.next_id("binding"), "user": caller.user_id})
    return True


@method("event.unbind", app_only=WRONG_AUTH)
def event_unbind(portal: Portal, caller: Caller, params: dict[str, Any]) -> Any:
    """Remove matching bindings; returns the count."""
    a = _event_args(portal, caller, params, "unbinding")
    auth_type = to_int(a["auth_type"]) if a["auth_type"] not in (None, "") else None

    def hit(b: dict[str, Any]) -> bool:
        """Whether a binding matches."""
        return (
            b["event"] == a["event"]
            and b["offline"] == a["offline"]
            and (a["offline"] or b["handler"] == a["handler"])
            and (auth_type is None or b["auth_type"] == auth_type)
        )

    keep = [b for b in portal.bindings if not hit(b)]
    count = len(portal.bindings) - len(keep)
    portal.bindings = keep
    return {"count": count}


@method("event.get", app_only=WRONG_AUTH)
def event_get(portal: Portal, caller: Caller, params: dict[str, Any]) -> Any:
    """This app's bindings (admins: all; others: their own)."""
    out = []
    for b in portal.bindings:
        if not caller.is_admin and b["auth_type"] != caller.user_id:
            continue
        if b["offline"]:
            out.append({"event": b["event"], "connector_id": b["connector"], "offline": 1})
        else:
            out.append(
                {
                    "event": b["event"],
                    "handler": b["handler"],
                    "auth_type": str(b["auth_type"]),
                    "offline": 0,
                }
            )
    return out
