"""The portal's /rest/ endpoint: input parsing, auth, limits, envelope and errors."""

from __future__ import annotations

import json
import re
import time
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, request

from . import registry
from .batch import run_batch
from .phpform import parse_pairs, parse_query
from .util import ApiError, Paged, time_block

if TYPE_CHECKING:
    from .portal import Portal

WEBHOOK = re.compile(r"^(\d+)/([^/]+)/(.+)$")
DOWN_HTML = (
    "<html><head><title>503 Service Temporarily Unavailable</title></head><body>"
    "<center><h1>503 Service Temporarily Unavailable</h1></center></body></html>"
)


def json_response(body: Any, status: int = 200) -> Response:
    """A JSON response the way Bitrix24 sends it."""
    return Response(
        json.dumps(body, ensure_ascii=False),
        status=status,
        content_type="application/json; charset=utf-8",
    )


def error_response(err: ApiError) -> Response:
    """An error response (HTML for the 'portal down' switch)."""
    if err.extra.get("_html"):
        return Response(DOWN_HTML, status=err.status, content_type="text/html")
    return json_response(err.body(), err.status)


def read_params() -> dict[str, Any]:
    """Merge GET query, form/multipart body and JSON body (bracket keys nested)."""
    params = parse_query(request.query_string.decode("utf-8", "replace"))
    if request.is_json:
        body = request.get_json(silent=True)
        if isinstance(body, dict):
            params.update(body)
    elif request.method == "POST":
        params.update(parse_pairs(request.form.items(multi=True)))
    return params


def envelope(result: Any, started: float, portal: Portal, name: str) -> dict[str, Any]:
    """The success envelope: result, total, next, time."""
    body: dict[str, Any] = {}
    if isinstance(result, Paged):
        body["result"] = result.items
        if result.total is not None:
            body["total"] = result.total
        if result.next is not None:
            body["next"] = result.next
    else:
        body["result"] = result
    used, reset_at = portal.operating.used(name)
    body["time"] = time_block(started, time.time(), used, reset_at)
    return body


def make_blueprint(portal: Portal) -> Blueprint:
    """Blueprint with /rest/<method> and /rest/<user>/<code>/<method> (webhooks)."""
    bp = Blueprint("rest", __name__)

    @bp.after_request
    def cors(resp: Response) -> Response:
        """Frames call the portal REST directly from the browser (b24jssdk fetch)."""
        resp.headers["Access-Control-Allow-Origin"] = "*"
        resp.headers["Access-Control-Allow-Headers"] = "Content-Type, Authorization"
        return resp

    @bp.route("/rest/<path:path>", methods=["OPTIONS"])
    def preflight(path: str) -> Response:
        """CORS preflight."""
        return Response("", status=204)

    @bp.route("/rest/<path:path>", methods=["GET", "POST"])
    def rest(path: str) -> Response:
        """Dispatch one REST request."""
        started = time.time()
        hook = WEBHOOK.match(path)
        name = registry.normalise(hook.group(3) if hook else path)
        try:
            with portal.lock:
                portal.engine.tick()
                portal.requests[name] = portal.requests.get(name, 0) + 1
                portal.bucket.hit(request.remote_addr or "")
                delay = portal.faults.before_call(name, portal.clock.now())
            if delay:
                time.sleep(delay)
            params = read_params()
            token = params.pop("auth", "")
            with portal.lock:
                if hook:
                    caller = portal.tokens.check_webhook(int(hook.group(1)), hook.group(2))
                else:
                    if portal.faults.payment_required:
                        raise ApiError("PAYMENT_REQUIRED", "Subscription has been ended", 401)
                    caller = portal.tokens.check(str(token or ""), portal.app)
                m = registry.lookup(name)
                portal.operating.check(name)
                t0 = time.monotonic()
                if name == "batch":
                    result = run_batch(portal, caller, params)
                else:
                    result = registry.call(portal, m, caller, params)
                portal.operating.add(name, time.monotonic() - t0 + delay)
                body = envelope(result, started, portal, name)
        except ApiError as err:
            with portal.lock:
                key = f"{err.status} {err.error}"
                portal.errors[key] = portal.errors.get(key, 0) + 1
            return error_response(err)
        return json_response(body)

    return bp
