"""REST methods app.info, scope, profile, user.current, user.get, user.admin, user.access."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .auth import USERS, Caller, find_user
from .filters import apply_filter, apply_order, apply_select, split_key
from .registry import method
from .util import Paged, page, truthy, upper_keys

if TYPE_CHECKING:
    from .portal import Portal

USER_SCOPES = ("user", "user_basic", "user_brief")
BRIEF = [
    "ID",
    "XML_ID",
    "ACTIVE",
    "NAME",
    "LAST_NAME",
    "SECOND_NAME",
    "TITLE",
    "IS_ONLINE",
    "TIME_ZONE",
    "TIME_ZONE_OFFSET",
    "PERSONAL_GENDER",
    "PERSONAL_PHOTO",
    "WORK_POSITION",
    "UF_DEPARTMENT",
    "UF_PHONE_INNER",
    "USER_TYPE",
]
BASIC_EXTRA = ["EMAIL", "PERSONAL_PHONE", "PERSONAL_MOBILE", "WORK_PHONE"]


def user_view(u: dict[str, Any], scope: list[str]) -> dict[str, Any]:
    """A user record limited by the token's user scopes."""
    full = {
        "ID": str(u["ID"]),
        "XML_ID": "",
        "ACTIVE": True,
        "NAME": u["NAME"],
        "LAST_NAME": u["LAST_NAME"],
        "SECOND_NAME": "",
        "TITLE": "",
        "IS_ONLINE": "Y",
        "TIME_ZONE": "",
        "TIME_ZONE_OFFSET": "0",
        "PERSONAL_GENDER": u["PERSONAL_GENDER"],
        "PERSONAL_PHOTO": "",
        "WORK_POSITION": u["WORK_POSITION"],
        "UF_DEPARTMENT": u["UF_DEPARTMENT"],
        "UF_PHONE_INNER": u["UF_PHONE_INNER"],
        "USER_TYPE": "employee",
        "EMAIL": u["EMAIL"],
        "PERSONAL_PHONE": "",
        "PERSONAL_MOBILE": "",
        "WORK_PHONE": "",
        "LAST_LOGIN": "",
        "DATE_REGISTER": "",
    }
    if "user" in scope:
        return full
    keys = BRIEF + (BASIC_EXTRA if "user_basic" in scope else [])
    return {k: full[k] for k in keys}


@method("app.info")
def app_info(portal: Portal, caller: Caller, params: dict[str, Any]) -> Any:
    """Portal-side app.info."""
    a = portal.app
    return {
        "ID": 7,
        "CODE": portal.cfg.app_code,
        "VERSION": a.version,
        "STATUS": portal.cfg.app_status,
        "INSTALLED": a.installed,
        "PAYMENT_EXPIRED": "N",
        "DAYS": None,
        "LANGUAGE_ID": portal.cfg.language,
        "LICENSE": "en_project",
        "LICENSE_TYPE": "project",
        "LICENSE_FAMILY": "project",
    }


@method("scope")
def scope(portal: Portal, caller: Caller, params: dict[str, Any]) -> Any:
    """Scopes of the token (or of the portal with full=true)."""
    if truthy(params.get("full")):
        return sorted({*portal.cfg.scope_list(), "user", "user_basic", "pay_system", "sale"})
    return caller.scope


@method("profile")
def profile(portal: Portal, caller: Caller, params: dict[str, Any]) -> Any:
    """Basic profile of the token's user."""
    u = find_user(caller.user_id) or USERS[0]
    return {
        "ID": str(u["ID"]),
        "ADMIN": caller.is_admin,
        "NAME": u["NAME"],
        "LAST_NAME": u["LAST_NAME"],
        "PERSONAL_GENDER": u["PERSONAL_GENDER"],
        "TIME_ZONE": "",
    }


@method("user.current", USER_SCOPES)
def user_current(portal: Portal, caller: Caller, params: dict[str, Any]) -> Any:
    """The token's user."""
    return user_view(find_user(caller.user_id) or USERS[0], caller.scope)


@method("user.admin")
def user_admin(portal: Portal, caller: Caller, params: dict[str, Any]) -> Any:
    """Whether the token's user administers the portal."""
    return caller.is_admin


@method("user.access")
def user_access(portal: Portal, caller: Caller, params: dict[str, Any]) -> Any:
    """Whether the user holds one of the access codes."""
    codes = params.get("ACCESS") or params.get("access") or []
    codes = [codes] if isinstance(codes, str) else list(codes)
    return caller.is_admin or f"U{caller.user_id}" in codes or "AU" in codes


@method("user.get", USER_SCOPES)
def user_get(portal: Portal, caller: Caller, params: dict[str, Any]) -> Any:
    """Users with filter/sort/select/paging."""
    up = upper_keys(params)
    flt = up.get("FILTER")
    if not isinstance(flt, dict):
        skip = {"SORT", "ORDER", "SELECT", "ADMIN_MODE", "IMAGE_RESIZE", "START", "FILTER"}
        flt = {k: v for k, v in up.items() if k not in skip}
    rows = [user_view(u, caller.scope) for u in USERS]
    allowed = set(rows[0])
    flt = {k.upper(): v for k, v in flt.items() if split_key(k.upper())[1] in allowed}
    for key in list(flt):
        if split_key(key)[1] == "ACTIVE":
            flt[key] = truthy(flt[key])
    rows = apply_filter(rows, flt)
    if up.get("SORT") and up.get("ORDER"):
        rows = apply_order(rows, {str(up["SORT"]).upper(): up["ORDER"]}, "ID")
    else:
        rows = apply_order(rows, None, "ID")
    rows = [apply_select(r, up.get("SELECT"), ("ID",)) for r in rows]
    if not rows:
        return Paged([], total=0) if portal.cfg.user_get_empty_total else []
    return page(rows, up.get("START", params.get("start")), portal.cfg.page_size)
