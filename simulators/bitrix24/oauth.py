"""The OAuth server (oauth.bitrix.info look-alike) and the portal's /oauth/authorize/."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from flask import Blueprint, Response, redirect, request

from .http_rest import error_response, json_response
from .util import ApiError, iso_utc, time_block, to_int

if TYPE_CHECKING:
    from .portal import Portal


def oauth_error(portal: Portal, error: str, description: str) -> Response:
    """An OAuth-server error body."""
    return json_response(
        {"error": error, "error_description": description}, portal.cfg.oauth_error_status
    )


def token_body(portal: Portal, t: dict[str, Any]) -> dict[str, Any]:
    """The token JSON of a successful grant."""
    host = portal.oauth_url.split("://", 1)[1].split("/", 1)[0]
    return {
        "access_token": t["access_token"],
        "client_endpoint": portal.client_endpoint,
        "domain": host,
        "expires": t["expires"],
        "expires_in": t["expires_in"],
        "member_id": portal.member_id,
        "refresh_token": t["refresh_token"],
        "scope": t["scope"],
        "server_endpoint": portal.server_endpoint,
        "status": portal.cfg.app_status,
        "user_id": t["user_id"],
    }


def make_oauth_blueprint(portal: Portal, name: str) -> Blueprint:
    """Blueprint of the OAuth server (mounted under a prefix or on its own port)."""
    bp = Blueprint(name, __name__)

    @bp.route("/oauth/token/", methods=["GET", "POST"])
    @bp.route("/oauth/token", methods=["GET", "POST"])
    def token() -> Response:
        """grant_type=refresh_token | authorization_code."""
        args = {**request.args.to_dict(), **request.form.to_dict()}
        with portal.lock:
            if portal.faults.oauth_down_calls > 0:
                portal.faults.oauth_down_calls -= 1
                return error_response(ApiError("", "", 503, _html=True))
            portal.requests["oauth/token"] = portal.requests.get("oauth/token", 0) + 1
            grant = args.get("grant_type", "")
            if grant not in ("refresh_token", "authorization_code"):
                return oauth_error(portal, "invalid_request", "Unsupported grant_type")
            if (
                args.get("client_id") != portal.cfg.client_id
                or args.get("client_secret") != portal.cfg.client_secret
            ):
                return oauth_error(portal, "invalid_client", "Invalid client credentials")
            if portal.app.revoked:
                return oauth_error(portal, "invalid_client", "Application not installed")
            if portal.faults.payment_required:
                return oauth_error(portal, "PAYMENT_REQUIRED", "Payment required")
            kind = "refresh" if grant == "refresh_token" else "code"
            value = args.get("refresh_token" if kind == "refresh" else "code", "")
            if not value:
                return oauth_error(portal, "invalid_request", f"Missing {grant}")
            old = portal.tokens.redeem(value, kind)
            if old is None:
                return oauth_error(portal, "invalid_grant", "Invalid grant")
            t = portal.tokens.issue(old.user_id, old.scope)
            return json_response(token_body(portal, t))

    @bp.route("/rest/app.info", methods=["GET", "POST"])
    @bp.route("/rest/app.info/", methods=["GET", "POST"])
    @bp.route("/rest/app.info.json", methods=["GET", "POST"])
    def app_info() -> Response:
        """The OAuth-server app.info shape."""
        started = time.time()
        token = request.values.get("auth", "")
        data = request.get_json(silent=True) if request.is_json else None
        if isinstance(data, dict):
            token = data.get("auth", token)
        with portal.lock:
            portal.requests["oauth/app.info"] = portal.requests.get("oauth/app.info", 0) + 1
            try:
                caller = portal.tokens.check(token, portal.app)
            except ApiError as err:
                return error_response(err)
            tok = portal.tokens.tokens[token]
            result = {
                "client_id": portal.cfg.client_id,
                "scope": ",".join(caller.scope),
                "expires": iso_utc(tok.expires),
                "user_id": caller.user_id,
                "install": {
                    "installed": portal.app.installed,
                    "version": portal.app.version,
                    "status": portal.cfg.app_status,
                    "scope": portal.cfg.scopes,
                    "domain": portal.domain,
                    "uri": portal.portal_url,
                    "client_endpoint": portal.client_endpoint,
                    "member_id": portal.member_id,
                    "member_type": "PORTAL",
                },
            }
        return json_response({"result": result, "time": time_block(started, time.time(), 0, 0)})

    return bp


def make_authorize_blueprint(portal: Portal) -> Blueprint:
    """The portal's /oauth/authorize/ (redirects with a 30-second code)."""
    bp = Blueprint("authorize", __name__)

    @bp.route("/oauth/authorize/", methods=["GET"])
    def authorize() -> Response:
        """Redirect to redirect_uri (or the app URL) with code, state, domain, ..."""
        if request.args.get("client_id") != portal.cfg.client_id:
            return json_response({"error": "invalid_client", "error_description": "Unknown"}, 400)
        user = to_int(request.args.get("user"), 1) or 1
        with portal.lock:
            code = portal.tokens.issue_code(user)
        target = request.args.get("redirect_uri") or portal.cfg.app_url
        query = {
            "code": code,
            "state": request.args.get("state", ""),
            "domain": portal.domain,
            "member_id": portal.member_id,
            "scope": portal.cfg.scopes,
            "server_domain": portal.oauth_url.split("://", 1)[1],
        }
        sep = "&" if "?" in target else "?"
        return redirect(target + sep + urlencode(query), code=302)

    return bp
