"""Control API: route index, state, options, tokens, users, webhooks, install, update, removal."""

from __future__ import annotations

from flask import Response, current_app, request

from . import lifecycle
from .auth import USERS
from .config import describe
from .control_base import ControlBlueprint, body, control_routes
from .current_portal import current_portal
from .http_rest import json_response
from .util import to_int

bp = ControlBlueprint("control_app", __name__)


@bp.doc_route("/", ["GET"], "list every control route")
def index() -> Response:
    """Route index."""
    return json_response({"routes": control_routes(current_app)})


@bp.doc_route(
    "/state",
    ["GET"],
    "portal/OAuth URLs, app state, users, robots, placements, event bindings, automation",
)
def state() -> Response:
    """Everything but CRM records."""
    portal = current_portal()
    with portal.lock:
        a = portal.app
        return json_response(
            {
                "portal_url": portal.portal_url,
                "oauth_url": portal.oauth_url,
                "client_endpoint": portal.client_endpoint,
                "server_endpoint": portal.server_endpoint,
                "domain": portal.domain,
                "member_id": portal.member_id,
                "install_url": portal.install_url(),
                "app": {
                    "installed": a.installed,
                    "version": a.version,
                    "revoked": a.revoked,
                    "application_token": a.application_token,
                    "client_id": portal.cfg.client_id,
                    "scopes": portal.cfg.scope_list(),
                },
                "users": USERS,
                "activities": portal.activities,
                "placements": portal.placements,
                "bindings": portal.bindings,
                "automation": portal.automation,
                "clock_offset": portal.clock.offset,
            }
        )


@bp.doc_route("/config", ["GET", "POST"], "read options (GET) or change them (POST {name: value})")
def config() -> Response:
    """Options."""
    portal = current_portal()
    if request.method == "POST":
        with portal.lock:
            unknown = portal.cfg.update(body())
        if unknown:
            return json_response({"error": "unknown options", "names": unknown}, 400)
    return json_response({"config": portal.cfg.to_dict(), "options": describe()})


@bp.doc_route("/token", ["POST"], "issue tokens {user_id=1, scope?, ttl?} → access/refresh pair")
def token() -> Response:
    """Mint a token pair for a user."""
    portal = current_portal()
    b = body()
    scope = b.get("scope")
    if isinstance(scope, str):
        scope = [s for s in scope.split(",") if s]
    with portal.lock:
        t = portal.tokens.issue(
            to_int(b.get("user_id"), 1) or 1,
            scope,
            to_int(b.get("ttl")) if b.get("ttl") is not None else None,
        )
    return json_response(
        {
            **t,
            "member_id": portal.member_id,
            "domain": portal.domain,
            "client_endpoint": portal.client_endpoint,
            "server_endpoint": portal.server_endpoint,
        }
    )


@bp.doc_route("/users/<int:user_id>/admin", ["PUT"], "make a user admin or not {admin: bool}")
def user_admin(user_id: int) -> Response:
    """Give or take away the admin right (user.admin answers accordingly from now on)."""
    portal = current_portal()
    with portal.lock:
        if bool(body().get("admin")):
            portal.tokens.admins.add(user_id)
        else:
            portal.tokens.admins.discard(user_id)
        return json_response({"admins": sorted(portal.tokens.admins)})


@bp.doc_route("/webhook", ["POST"], "create an incoming webhook {user_id=1} → its base URL")
def webhook() -> Response:
    """Incoming webhook."""
    portal = current_portal()
    uid = to_int(body().get("user_id"), 1) or 1
    with portal.lock:
        code = portal.tokens.add_webhook(uid)
    return json_response({"url": f"{portal.portal_url}/rest/{uid}/{code}/", "code": code})


@bp.doc_route("/install", ["POST"], "send the install: {mode: frame|event, user_id=1, finish}")
def install() -> Response:
    """Frame POST (PLACEMENT=DEFAULT) or ONAPPINSTALL event to {app_url}/bitrix/install."""
    portal = current_portal()
    b = body()
    uid = to_int(b.get("user_id"), 1) or 1
    if b.get("mode", "frame") == "event":
        return json_response(lifecycle.install_event(portal, uid))
    return json_response(lifecycle.install_frame(portal, uid, bool(b.get("finish"))))


@bp.doc_route("/install/finish", ["POST"], "simulate BX24.installFinish(): INSTALLED=true")
def install_finish() -> Response:
    """Finish the installation."""
    portal = current_portal()
    with portal.lock:
        portal.app.installed = True
        portal.app.revoked = False
    return json_response({"installed": True})


@bp.doc_route(
    "/app/update",
    ["POST"],
    "new version {version?, user_id=1}: new application_token, registrations wiped, "
    "ONAPPUPDATE sent with that user's tokens",
)
def app_update() -> Response:
    """ONAPPUPDATE."""
    portal = current_portal()
    b = body()
    v, uid = b.get("version"), to_int(b.get("user_id"), 1) or 1
    version = to_int(v) if v is not None else None
    return json_response(lifecycle.app_update(portal, version, uid))


@bp.doc_route("/app/uninstall", ["POST"], "ONAPPUNINSTALL {clean=true} then the app is removed")
def app_uninstall() -> Response:
    """ONAPPUNINSTALL."""
    portal = current_portal()
    return json_response(lifecycle.app_uninstall(portal, bool(body().get("clean", True))))


@bp.doc_route("/app/revoke", ["POST"], "revoke the app: every token refused, refresh fails")
def app_revoke() -> Response:
    """Revoke."""
    portal = current_portal()
    lifecycle.revoke(portal)
    return json_response({"revoked": True})


@bp.doc_route("/tokens/expire", ["POST"], "expire every access token now")
def expire() -> Response:
    """Expire tokens."""
    portal = current_portal()
    with portal.lock:
        return json_response({"expired": portal.tokens.expire_all()})
