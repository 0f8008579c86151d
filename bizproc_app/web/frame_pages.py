"""The frame pages: verify who opened them, then boot the payment screen or the settings."""

from __future__ import annotations

import json
import logging
import secrets as token_secrets
from dataclasses import replace

from flask import Blueprint, make_response, render_template, request
from flask.typing import ResponseReturnValue

from bizproc_app.bitrix import BitrixClient, BitrixError, PortalTokens, TokenStore
from bizproc_app.extensions import app_config, db, redis_conn, secrets
from bizproc_app.models import Portal, has_refund_grant
from bizproc_app.payments import screen_crm
from bizproc_app.payments.crm_context import DocumentDenied
from bizproc_app.portals.access import application_token_matches, find_portal
from bizproc_app.web.assets import AssetsMissing, entry
from bizproc_app.web.frame_session import Entity, FrameUser, open_session
from bizproc_app.web.http import error, frame_ancestors
from bizproc_app.wiring.acting_user import identify, presented_token, user_client

bp = Blueprint("placement", __name__, url_prefix="/bitrix")
log = logging.getLogger(__name__)

DEAL_PLACEMENTS = ("CRM_DEAL_DETAIL_TAB", "CRM_DEAL_DETAIL_TOOLBAR")
INVOICE_PLACEMENTS = ("CRM_SMART_INVOICE_DETAIL_TAB", "CRM_SMART_INVOICE_DETAIL_TOOLBAR")


def _who(portal: Portal, store: TokenStore) -> tuple[FrameUser, BitrixClient]:
    """Ask the portal (its stored endpoint, the user's own token) who this is."""
    client = user_client(
        app_config(),
        member_id=portal.member_id,
        client_endpoint=portal.client_endpoint,
        store=store,
        redis_client=redis_conn.client,
        lock_name=f"frame-open:{token_secrets.token_hex(8)}",
    )
    user_id, name, admin = identify(client)
    return FrameUser(portal.id, user_id, name, admin), client


@bp.post("/placement")
def placement() -> ResponseReturnValue:
    """Every placement and the app's own page (DEFAULT) land here."""
    form = request.form
    portal = find_portal(db.session, form.get("member_id", ""))
    if not application_token_matches(portal, form.get("APPLICATION_TOKEN", ""), secrets.box):
        return error(401, "unknown portal or wrong application token")
    assert portal is not None
    if not form.get("AUTH_ID"):
        return error(401, "the frame POST carries no AUTH_ID")
    store = presented_token(portal.member_id, form["AUTH_ID"], form.get("REFRESH_ID", ""))
    try:
        user, client = _who(portal, store)
    except BitrixError as exc:
        log.info("placement: user.current refused (%s)", exc.code)
        return error(401, "Bitrix24 did not confirm who you are: reopen the tab.")
    tokens = store.load(portal.member_id)  # refreshed if the form's AUTH_ID had expired
    name = form.get("PLACEMENT", "DEFAULT").upper()
    try:
        options = json.loads(form.get("PLACEMENT_OPTIONS") or "{}")
    except ValueError:
        options = {}
    options = options if isinstance(options, dict) else {}
    raw_id = options.get("ID") or options.get("ENTITY_ID") or ""
    entity_id = int(raw_id) if str(raw_id).isdigit() else None
    if name == "DEFAULT":
        # Everyone gets the settings page: it tells a non-admin "administrators only" itself
        # (a 403 document in the portal's frame is an error page), and the API refuses them.
        return _page(portal, user, tokens, "settings", name)
    for kind, placements in (("deal", DEAL_PLACEMENTS), ("invoice", INVOICE_PLACEMENTS)):
        if name in placements and entity_id:
            try:  # a forged PLACEMENT_OPTIONS must not open a card the user may not see
                screen_crm.check_card(client, kind, entity_id)
            except DocumentDenied:
                return error(403, "Bitrix24 does not let you see this deal or invoice.")
            on_card = replace(user, entity=Entity(kind, entity_id))
            return _page(portal, on_card, tokens, "payment", name)
    return error(400, f"nothing to show for placement {name}")


def _page(
    portal: Portal, user: FrameUser, tokens: PortalTokens, page: str, placement: str
) -> ResponseReturnValue:
    """Open the frame session (the user's tokens kept, bound to the card) and boot the page."""
    user, token = open_session(user, tokens)
    nonce = token_secrets.token_urlsafe(16)
    granted = has_refund_grant(db.session, portal.id, user.user_id)
    boot = {
        "token": token,
        "page": page,
        "placement": placement,
        "entity": {"type": user.entity.kind, "id": user.entity.id} if user.entity else None,
        "user": {
            "id": user.user_id,
            "name": user.name,
            "admin": user.admin,
            "can_refund": user.admin or granted,
        },
        "apiBase": "/api",
    }
    try:
        scripts, styles = entry(page)
    except AssetsMissing as exc:
        log.error("%s", exc)
        scripts, styles = [], []
    html = render_template(
        "frame.html", boot=boot, page=page, scripts=scripts, styles=styles, nonce=nonce
    )
    response = make_response(html, 200)
    portal_origin = portal.client_endpoint.removesuffix("/rest/")
    response.headers["Content-Security-Policy"] = "; ".join(
        [
            frame_ancestors(portal.domain),
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}'",
            "style-src 'self' 'unsafe-inline'",
            f"connect-src 'self' {portal_origin}",
            "img-src 'self' data:",
            "font-src 'self' data:",
            "object-src 'none'",
            "base-uri 'none'",
        ]
    )
    response.headers["Cache-Control"] = "no-store"
    return response
