"""Control API under /_sim/ (JSON): app lifecycle, tokens, faults, counters, config."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, request

from . import lifecycle
from .auth import USERS
from .config import describe
from .http_rest import json_response
from .util import to_int

if TYPE_CHECKING:
    from .portal import Portal

ROUTES: list[tuple[str, str, str]] = []


def body() -> dict[str, Any]:
    """The JSON (or form) body of a control request."""
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else request.values.to_dict()


def route(bp: Blueprint, rule: str, methods: list[str], doc: str) -> Any:
    """Register a control route and its one-line description."""
    ROUTES.append((" ".join(methods), "/_sim" + rule, doc))
    return bp.route(rule, methods=methods)


def make_control(portal: Portal) -> Blueprint:
    """The /_sim/ blueprint (lifecycle and system part; CRM/BP routes live in control_bp)."""
    bp = Blueprint("control", __name__, url_prefix="/_sim")
    ROUTES.clear()

    @route(bp, "/", ["GET"], "list every control route")
    def index() -> Response:
        """Route index."""
        return json_response(
            {"routes": [{"methods": m, "path": p, "description": d} for m, p, d in ROUTES]}
        )

    @route(
        bp,
        "/state",
        ["GET"],
        "portal/OAuth URLs, app state, users, robots, placements, event bindings, automation",
    )
    def state() -> Response:
        """Everything but CRM records."""
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

    @route(bp, "/config", ["GET", "POST"], "read options (GET) or change them (POST {name: value})")
    def config() -> Response:
        """Options."""
        if request.method == "POST":
            with portal.lock:
                unknown = portal.cfg.update(body())
            if unknown:
                return json_response({"error": "unknown options", "names": unknown}, 400)
        return json_response({"config": portal.cfg.to_dict(), "options": describe()})

    @route(bp, "/token", ["POST"], "issue tokens {user_id=1, scope?, ttl?} → access/refresh pair")
    def token() -> Response:
        """Mint a token pair for a user."""
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

    @route(bp, "/users/<int:user_id>/admin", ["PUT"], "make a user admin or not {admin: bool}")
    def user_admin(user_id: int) -> Response:
        """Give or take away the admin right (user.admin answers accordingly from now on)."""
        with portal.lock:
            if bool(body().get("admin")):
                portal.tokens.admins.add(user_id)
            else:
                portal.tokens.admins.discard(user_id)
            return json_response({"admins": sorted(portal.tokens.admins)})

    @route(bp, "/webhook", ["POST"], "create an incoming webhook {user_id=1} → its base URL")
    def webhook() -> Response:
        """Incoming webhook."""
        uid = to_int(body().get("user_id"), 1) or 1
        with portal.lock:
            code = portal.tokens.add_webhook(uid)
        return json_response({"url": f"{portal.portal_url}/rest/{uid}/{code}/", "code": code})

    @route(bp, "/install", ["POST"], "send the install: {mode: frame|event, user_id=1, finish}")
    def install() -> Response:
        """Frame POST (PLACEMENT=DEFAULT) or ONAPPINSTALL event to {app_url}/bitrix/install."""
        b = body()
        uid = to_int(b.get("user_id"), 1) or 1
        if b.get("mode", "frame") == "event":
            return json_response(lifecycle.install_event(portal, uid))
        return json_response(lifecycle.install_frame(portal, uid, bool(b.get("finish"))))

    @route(bp, "/install/finish", ["POST"], "simulate BX24.installFinish(): INSTALLED=true")
    def install_finish() -> Response:
        """Finish the installation."""
        with portal.lock:
            portal.app.installed = True
            portal.app.revoked = False
        return json_response({"installed": True})

    @route(
        bp,
        "/app/update",
        ["POST"],
        "new version {version?, user_id=1}: new application_token, registrations wiped, "
        "ONAPPUPDATE sent with that user's tokens",
    )
    def app_update() -> Response:
        """ONAPPUPDATE."""
        b = body()
        v, uid = b.get("version"), to_int(b.get("user_id"), 1) or 1
        version = to_int(v) if v is not None else None
        return json_response(lifecycle.app_update(portal, version, uid))

    @route(bp, "/app/uninstall", ["POST"], "ONAPPUNINSTALL {clean=true} then the app is removed")
    def app_uninstall() -> Response:
        """ONAPPUNINSTALL."""
        return json_response(lifecycle.app_uninstall(portal, bool(body().get("clean", True))))

    @route(bp, "/app/revoke", ["POST"], "revoke the app: every token refused, refresh fails")
    def app_revoke() -> Response:
        """Revoke."""
        lifecycle.revoke(portal)
        return json_response({"revoked": True})

    @route(bp, "/tokens/expire", ["POST"], "expire every access token now")
    def expire() -> Response:
        """Expire tokens."""
        with portal.lock:
            return json_response({"expired": portal.tokens.expire_all()})

    @route(bp, "/clock/advance", ["POST"], "advance the simulated clock {seconds} (fires timeouts)")
    def advance() -> Response:
        """Move time."""
        with portal.lock:
            portal.clock.advance(float(body().get("seconds", 0)))
            portal.engine.tick()
            return json_response({"offset": portal.clock.offset})

    @route(
        bp,
        "/faults",
        ["GET", "POST"],
        "failure switches: fail_next, fail_method, delay, "
        "delay_method, down_calls, down_seconds, "
        "payment_required, drop_handler_calls, oauth_down_calls, overload_limit",
    )
    def faults() -> Response:
        """Read or set failure switches."""
        if request.method == "POST":
            with portal.lock:
                unknown = portal.faults.update(body(), portal.clock.now())
            if unknown:
                return json_response({"error": "unknown faults", "names": unknown}, 400)
        return json_response(portal.faults.to_dict())

    @route(bp, "/faults/reset", ["POST"], "clear every failure switch")
    def faults_reset() -> Response:
        """Clear faults."""
        with portal.lock:
            portal.faults.__init__()
        return json_response(portal.faults.to_dict())

    @route(
        bp,
        "/permissions",
        ["GET", "PUT", "DELETE"],
        "per-user CRM rights: PUT {user_id, entityTypeId, read|add|write|delete: all|own|none}; "
        "DELETE gives everyone everything again",
    )
    def permissions() -> Response:
        """Read, set or reset the CRM permissions."""
        with portal.lock:
            if request.method == "DELETE":
                portal.perms.reset()
            elif request.method == "PUT":
                b = body()
                uid, type_id = to_int(b.pop("user_id", None)), to_int(b.pop("entityTypeId", None))
                if uid is None or type_id not in (2, 31):
                    return json_response({"error": "need user_id and entityTypeId 2 or 31"}, 400)
                try:
                    return json_response(portal.perms.set(uid, type_id, b))
                except ValueError as exc:
                    return json_response({"error": str(exc)}, 400)
            return json_response(
                {str(u): {str(t): r for t, r in by.items()} for u, by in portal.perms.rules.items()}
            )

    @route(bp, "/ratelimit/reset", ["POST"], "empty the leaky buckets and operating-time counters")
    def rl_reset() -> Response:
        """Reset limits."""
        with portal.lock:
            portal.bucket.reset()
            portal.operating.reset()
        return json_response({"ok": True})

    @route(bp, "/operating", ["POST"], "add fake execution time {method, seconds} (to force 429)")
    def operating() -> Response:
        """Inflate operating time."""
        b = body()
        with portal.lock:
            portal.operating.add(str(b.get("method", "")).lower(), float(b.get("seconds", 0)))
        return json_response({"ok": True})

    @route(
        bp,
        "/requests",
        ["GET", "DELETE"],
        "REST request counts per method and batch commands per method (DELETE resets)",
    )
    def requests_() -> Response:
        """Counters."""
        with portal.lock:
            if request.method == "DELETE":
                portal.requests.clear()
                portal.batch_commands.clear()
                portal.errors.clear()
            return json_response(
                {
                    "requests": portal.requests,
                    "batch_commands": portal.batch_commands,
                    "errors": portal.errors,
                    "total": sum(portal.requests.values()),
                }
            )

    @route(bp, "/outbound", ["GET"], "every POST sent to the app (?kind=robot|event|...)")
    def outbound() -> Response:
        """Outbound log."""
        portal.outbound.wait_idle(5)
        kind = request.args.get("kind")
        with portal.lock:
            return json_response([e for e in portal.outbound.log if not kind or e["kind"] == kind])

    @route(bp, "/notifications", ["GET"], "im.notify notifications")
    def notifications() -> Response:
        """Notifications."""
        with portal.lock:
            return json_response(portal.notifications)

    return bp
