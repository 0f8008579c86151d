"""Minimal portal pages: deal / invoice cards framing the app's placements, and the install page."""

from __future__ import annotations

import json
from html import escape
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from flask import Blueprint, Response, request

from .auth import find_user
from .crm import DEAL, INVOICE
from .current_portal import current_portal
from .page_crm import STYLE as CRM_STYLE
from .page_crm import invoices_html
from .sdk_js import responder_script
from .util import hex_id, to_int

if TYPE_CHECKING:
    from .portal import Portal

STYLE = (
    "body{font-family:sans-serif;margin:1em}iframe{width:100%;height:420px;"
    "border:1px solid #ccc}h2{margin:.3em 0}.tab{margin-top:1em}" + CRM_STYLE
)

bp = Blueprint("pages", __name__)


def frame_html(
    portal: Portal,
    user_id: int,
    handler: str,
    placement: str,
    options: dict[str, Any] | None,
    title: str,
) -> str:
    """A hidden form POSTed (target=iframe) to the app, like the real portal does."""
    sid = hex_id(32)
    query, form = portal.frame(user_id, placement, options, app_sid=sid)
    sep = "&" if "?" in handler else "?"
    action = handler + sep + urlencode(query)
    # The SDK (and the old BX24 library) read DOMAIN|PROTOCOL|APP_SID from window.name: the
    # portal names the app's iframe so, and targets the frame POST at it.
    name = f"{query['DOMAIN']}|{query['PROTOCOL']}|{sid}"
    inputs = "".join(
        f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in form.items()
    )
    user = find_user(user_id) or {"NAME": "", "LAST_NAME": "", "ADMIN": False}
    meta = json.dumps(
        {
            "lang": portal.cfg.language,
            "installed": portal.app.installed,
            "is_admin": user_id in portal.tokens.admins,
            "user_id": user_id,
            "user_name": f"{user['NAME']} {user['LAST_NAME']}",
            "sid": sid,
            "placement": placement,
            "options": options or {},
            "auth": {
                "access_token": form["AUTH_ID"],
                "refresh_token": form["REFRESH_ID"],
                "expires_in": form["AUTH_EXPIRES"],
                "domain": portal.domain,
                "member_id": portal.member_id,
            },
        }
    )
    return (
        f'<div class="tab"><h3>{escape(title)}</h3>'
        f'<form id="f_{sid}" method="POST" action="{escape(action)}" target="{escape(name)}">'
        f'{inputs}</form><iframe name="{escape(name)}" id="app_{sid}" data-b24=\'{escape(meta)}\'>'
        f'</iframe><script>document.getElementById("f_{sid}").submit();</script></div>'
    )


def page(portal: Portal, title: str, inner: str) -> Response:
    """Wrap page content."""
    html = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"
        # An empty icon: browsers would otherwise ask for /favicon.ico and log a 404.
        "<link rel='icon' href='data:,'>"
        f"<style>{STYLE}</style></head><body>{inner}"
        f"<script>{responder_script(portal)}</script></body></html>"
    )
    return Response(html, content_type="text/html; charset=utf-8")


def card(type_id: int, item_id: int) -> Response:
    """A deal / invoice card with its DETAIL_TAB and DETAIL_TOOLBAR placements."""
    portal = current_portal()
    user = to_int(request.args.get("user"), 1) or 1
    prefix = "CRM_DEAL" if type_id == DEAL else "CRM_SMART_INVOICE"
    with portal.lock:
        item = portal.crm.get(type_id, item_id)
        if item is None:
            return Response("Not found", status=404)
        view = portal.crm.view(item)
        head = (
            f"<h2>{escape(str(view['title']))}</h2><p>Stage: {escape(view['stageId'])} · "
            f"Amount: {view['opportunity']} {escape(view['currencyId'])} · "
            f"User: {user}</p>"
        ) + invoices_html(portal, type_id, item)
        tabs = []
        if portal.app.installed and not portal.app.revoked:
            for p in portal.placements:
                if p["placement"] in (f"{prefix}_DETAIL_TAB", f"{prefix}_DETAIL_TOOLBAR"):
                    uri = request.path + "?IFRAME=Y&IFRAME_TYPE=SIDE_SLIDER"
                    tabs.append(
                        frame_html(
                            portal,
                            user,
                            p["handler"],
                            p["placement"],
                            {"ID": str(item_id), "URI": uri},
                            p["title"] or p["placement"],
                        )
                    )
        elif portal.placements:
            tabs.append("<p>The application is not fully installed yet.</p>")
    return page(portal, view["title"], head + "".join(tabs))


@bp.route("/crm/deal/details/<int:item_id>/")
def deal_card(item_id: int) -> Response:
    """Deal card."""
    return card(DEAL, item_id)


@bp.route("/crm/type/31/details/<int:item_id>/")
def invoice_card(item_id: int) -> Response:
    """Smart-invoice card."""
    return card(INVOICE, item_id)


@bp.route("/install/")
def install_page() -> Response:
    """The install wizard: frames the app's install URL with PLACEMENT=DEFAULT."""
    portal = current_portal()
    user = to_int(request.args.get("user"), 1) or 1
    with portal.lock:
        inner = frame_html(portal, user, portal.install_url(), "DEFAULT", None, "Install")
    return page(portal, "Install application", inner)


@bp.route("/app/")
def app_page() -> Response:
    """The app's main page (PLACEMENT=DEFAULT) at app_url."""
    portal = current_portal()
    user = to_int(request.args.get("user"), 1) or 1
    with portal.lock:
        inner = frame_html(portal, user, portal.cfg.app_url, "DEFAULT", None, "Application")
    return page(portal, "Application", inner)


@bp.route("/")
def home() -> Response:
    """Links to every card."""
    portal = current_portal()
    with portal.lock:
        links = [
            f'<li><a href="/crm/deal/details/{i}/">Deal {i}</a></li>'
            for i in portal.crm.items[DEAL]
        ]
        links += [
            f'<li><a href="/crm/type/31/details/{i}/">Invoice {i}</a></li>'
            for i in portal.crm.items[INVOICE]
        ]
    return page(
        portal,
        "Portal",
        "<h2>Simulated Bitrix24 portal</h2>"
        '<p><a href="/install/">Install page</a> · <a href="/_sim/">Control API</a>'
        f"</p><ul>{''.join(links)}</ul>",
    )
