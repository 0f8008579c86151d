"""Placement pages (deal and invoice tabs, the deal toolbar): a placeholder until the UI lands."""

from __future__ import annotations

import json

from flask import Blueprint, make_response, render_template, request
from flask.typing import ResponseReturnValue

from bizproc_app.extensions import db, secrets
from bizproc_app.portals import application_token_matches, find_portal
from bizproc_app.web import error, frame_ancestors

bp = Blueprint("placement", __name__, url_prefix="/bitrix")


@bp.post("/placement")
def placement() -> ResponseReturnValue:
    """Show which placement and entity opened the page; the payment screen replaces this."""
    portal = find_portal(db.session, request.form.get("member_id", ""))
    if not application_token_matches(
        portal, request.form.get("APPLICATION_TOKEN", ""), secrets.box
    ):
        return error(401, "unknown portal or wrong application token")
    assert portal is not None
    try:
        options = json.loads(request.form.get("PLACEMENT_OPTIONS") or "{}")
    except ValueError:
        options = {}
    entity = options.get("ID") or options.get("ENTITY_ID") if isinstance(options, dict) else None
    html = render_template(
        "placement.html", placement=request.form.get("PLACEMENT", ""), entity=str(entity or "")
    )
    response = make_response(html)
    response.headers["Content-Security-Policy"] = frame_ancestors(portal.domain)
    return response
