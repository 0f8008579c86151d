"""Bitrix24 lifecycle endpoints: install (frame POST or ONAPPINSTALL), update and uninstall."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import Blueprint, jsonify, make_response, render_template, request
from flask.typing import ResponseReturnValue
from marshmallow import ValidationError

from bizproc_app.bitrix import BitrixError
from bizproc_app.extensions import db, redis_conn
from bizproc_app.models import Portal
from bizproc_app.payments.queues import enqueue_uninstall_check
from bizproc_app.portals.access import find_portal
from bizproc_app.portals.installation import (
    Lifecycle,
    LifecycleRejected,
    PortalAuth,
    UninstallUnconfirmed,
)
from bizproc_app.web.http import BadForm, error, field_errors, form_data, frame_ancestors
from bizproc_app.web.schemas import FrameInstallSchema, LifecycleEventSchema
from bizproc_app.wiring.services import lifecycle

bp = Blueprint("lifecycle", __name__, url_prefix="/bitrix")
log = logging.getLogger(__name__)


def _event_auth(auth: dict[str, Any]) -> PortalAuth:
    return PortalAuth(
        member_id=auth["member_id"],
        domain=auth["domain"],
        access_token=auth["access_token"],
        refresh_token=auth["refresh_token"],
        expires_in=auth["expires_in"],
        application_token=auth["application_token"],
        scope=auth["scope"],
        status=auth["status"],
    )


@bp.post("/install")
def install() -> ResponseReturnValue:
    """Install from the install page's frame POST (HTML) or the ONAPPINSTALL event (JSON)."""
    try:
        data = form_data()
    except BadForm as exc:
        return error(400, str(exc))
    if "event" in data:
        return _install_event(data)
    domain = request.args.get("DOMAIN", "").strip().lower()
    try:
        form = FrameInstallSchema().load(data)
    except ValidationError as exc:
        return _install_page("", 400, f"Invalid install request: {sorted(exc.messages)}")
    auth = PortalAuth(
        member_id=form["member_id"],
        domain=domain,
        access_token=form["AUTH_ID"],
        refresh_token=form["REFRESH_ID"],
        expires_in=form["AUTH_EXPIRES"],
        application_token=form["APPLICATION_TOKEN"],
        scope=form["APPLICATION_SCOPE"],
        status=form["status"],
    )
    member = form["member_id"]
    try:
        lifecycle().install(auth)
    except LifecycleRejected as exc:
        return _install_page(member, exc.status, f"Installation refused: {exc}")
    except BitrixError as exc:
        log.warning("install on %s failed while registering: %s", domain, exc.code)
        return _install_page(member, 502, f"Bitrix24 refused a registration step ({exc.code}).")
    return _install_page(member, 200, "")


def _install_event(data: dict[str, Any]) -> ResponseReturnValue:
    try:
        form = LifecycleEventSchema().load(data)
    except ValidationError as exc:
        return error(400, "invalid event", field_errors(exc))
    if form["event"] != "ONAPPINSTALL":
        return error(400, "this URL takes ONAPPINSTALL only", {"event": ["Must be ONAPPINSTALL."]})
    return _run(lambda lc: lc.install(_event_auth(form["auth"])), "installed")


def _install_page(member_id: str, status: int, problem: str) -> ResponseReturnValue:
    """The install page; only the portal we stored (verified) may frame it, never the
    request's own DOMAIN."""
    portal = find_portal(db.session, member_id) if member_id else None
    response = make_response(render_template("install.html", problem=problem), status)
    response.headers["Content-Security-Policy"] = frame_ancestors(portal.domain if portal else "")
    return response


@bp.post("/events")
def events() -> ResponseReturnValue:
    """ONAPPUPDATE and ONAPPUNINSTALL, each verified before anything changes."""
    try:
        form = LifecycleEventSchema().load(form_data())
    except BadForm as exc:
        return error(400, str(exc))
    except ValidationError as exc:
        return error(400, "invalid event", field_errors(exc))
    auth = form["auth"]
    if form["event"] == "ONAPPUPDATE":
        return _run(lambda lc: lc.update(_event_auth(auth)), "updated")
    if form["event"] == "ONAPPUNINSTALL":
        try:
            return _run(
                lambda lc: lc.uninstall(auth["member_id"], auth["application_token"]),
                "uninstalled",
            )
        except UninstallUnconfirmed:
            # Bitrix24 may deliver the event before it finishes removing the app: check later.
            enqueue_uninstall_check(redis_conn.client, auth["member_id"])
            return jsonify({"status": "pending", "member_id": auth["member_id"]}), 202
    return error(400, "this URL takes ONAPPUPDATE and ONAPPUNINSTALL", {"event": ["Unsupported."]})


def _run(action: Callable[[Lifecycle], Portal], done: str) -> ResponseReturnValue:
    try:
        portal = action(lifecycle())
    except UninstallUnconfirmed:
        db.session.rollback()
        raise
    except LifecycleRejected as exc:
        db.session.rollback()
        return error(exc.status, str(exc))
    except BitrixError as exc:
        log.warning("lifecycle step failed: %s", exc.code)
        return error(502, f"Bitrix24 refused a registration step ({exc.code})")
    return jsonify({"status": done, "member_id": portal.member_id})
