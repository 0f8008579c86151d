"""REST methods im.notify* and crm.timeline.comment.*."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .auth import Caller, find_user
from .crm import DEAL, INVOICE
from .registry import method
from .util import ApiError, Paged, iso, page, to_int, upper_keys

if TYPE_CHECKING:
    from .portal import Portal


def _notify(portal: Portal, caller: Caller, params: dict[str, Any], kind: str | None) -> Any:
    """Shared body of the im.notify* methods."""
    up = upper_keys(params)
    uid = to_int(up.get("USER_ID", up.get("TO")), 0) or 0
    if uid <= 0:
        raise ApiError("USER_ID_EMPTY", "User ID can't be empty", 400)
    message = str(up.get("MESSAGE") or "").strip()
    if not message:
        raise ApiError("MESSAGE_EMPTY", "Message can't be empty", 400)
    if len(str(up.get("ATTACH") or "")) > 60000:
        raise ApiError(
            "ATTACH_OVERSIZE", "You have exceeded the maximum allowable size of attach", 400
        )
    ntype = kind or ("SYSTEM" if str(up.get("TYPE", "")).upper() == "SYSTEM" else "USER")
    if find_user(uid) is None and portal.cfg.im_unknown_user == "false":
        return False
    if ntype == "SYSTEM" and caller.is_app:
        message = f"{portal.cfg.app_name}#BR#{message}"
    tag = str(up.get("TAG") or "")
    if tag and caller.is_app:
        portal.notifications = [n for n in portal.notifications if n["tag"] != tag]
    nid = portal.next_id("notify", 12345)
    portal.notifications.append(
        {
            "id": nid,
            "user_id": uid,
            "type": ntype,
            "message": message,
            "author_id": None if ntype == "SYSTEM" else caller.user_id,
            "tag": tag if caller.is_app else "",
            "sub_tag": str(up.get("SUB_TAG") or ""),
            "message_out": up.get("MESSAGE_OUT"),
            "attach": up.get("ATTACH"),
            "date": iso(portal.clock.now()),
        }
    )
    return nid


method("im.notify", "im")(lambda p, c, a: _notify(p, c, a, None))
method("im.notify.system.add", "im")(lambda p, c, a: _notify(p, c, a, "SYSTEM"))
method("im.notify.personal.add", "im")(lambda p, c, a: _notify(p, c, a, "USER"))


def _comment_owner(portal: Portal, etype: str, eid: Any) -> tuple[int, dict[str, Any] | None]:
    """Resolve ENTITY_TYPE / ENTITY_ID."""
    taken = portal.cfg.invoice_timeline_type
    forms = ("smart_invoice", "dynamic_31") if taken == "both" else (taken,)
    types = {"deal": DEAL, **dict.fromkeys(forms, INVOICE)}
    t = types.get(etype.lower(), -1)
    return t, portal.crm.get(t, eid)


@method("crm.timeline.comment.add", "crm")
def comment_add(portal: Portal, caller: Caller, params: dict[str, Any]) -> Any:
    """Add a timeline comment (only the lowercase `fields` key is accepted)."""
    f = params.get("fields")
    if not isinstance(f, dict):
        raise ApiError(100, 'Required parameter "fields" is missing', 400)
    f = upper_keys(f)
    if f.get("ENTITY_ID") in (None, "") or not f.get("ENTITY_TYPE"):
        raise ApiError(100, "Required fields ENTITY_ID and ENTITY_TYPE are missing", 400)
    if not str(f.get("COMMENT") or "").strip():
        raise ApiError("INVALID_ARG_VALUE", "Comment is empty", 400)
    _, item = _comment_owner(portal, str(f["ENTITY_TYPE"]), f["ENTITY_ID"])
    if item is None:
        raise ApiError("OWNER_NOT_FOUND", "Owner was not found", 400)
    cid = portal.next_id("comment", 1000)
    portal.comments.append(
        {
            "ID": str(cid),
            "ENTITY_ID": str(item["id"]),
            "ENTITY_TYPE": str(f["ENTITY_TYPE"]).lower(),
            "CREATED": iso(portal.clock.now()),
            "COMMENT": str(f["COMMENT"]),
            "AUTHOR_ID": str(caller.user_id),
            "FILES": {},
        }
    )
    return cid


@method("crm.timeline.comment.list", "crm")
def comment_list(portal: Portal, caller: Caller, params: dict[str, Any]) -> Any:
    """Comments of one item."""
    f = upper_keys(upper_keys(params).get("FILTER"))
    if f.get("ENTITY_ID") in (None, "") or not f.get("ENTITY_TYPE"):
        raise ApiError("", "Access denied.", 400)
    _, item = _comment_owner(portal, str(f["ENTITY_TYPE"]), f["ENTITY_ID"])
    rows = [
        c
        for c in portal.comments
        if item
        and c["ENTITY_ID"] == str(item["id"])
        and c["ENTITY_TYPE"] == str(f["ENTITY_TYPE"]).lower()
    ]
    p = page(rows, upper_keys(params).get("START"), portal.cfg.page_size)
    return Paged(p.items, total=p.total, next=p.next)
