"""HTTP helpers shared by the blueprints: JSON bodies, error shapes, auth, dropped sockets."""

from __future__ import annotations

import contextlib
import json
import socket
from typing import Any

from flask import Response, current_app, request

from .auth import TokenInfo
from .casing import lower_keys, render
from .engine import Engine

TITLES = {
    400: "The request is invalid",
    404: "The requested resource wasn't found",
    408: "The payment request was timed out",
    500: "EFTPOS server error",
    502: "EFTPOS server error",
    503: "EFTPOS server error",
    504: "EFTPOS server error",
}


def engine() -> Engine:
    """The engine of the running app."""
    return current_app.extensions["linkly"]


def json_response(obj: Any, status: int = 200) -> Response:
    """Serialise obj as JSON, keeping key order."""
    return Response(json.dumps(obj), status=status, mimetype="application/json")


def envelope_response(env: dict[str, Any], status: int = 200) -> Response:
    """Render a saved envelope in the configured casing."""
    return json_response(render(env, engine().config.casing), status)


def ack(status: int) -> Response:
    """A 202/200 acknowledgement: {} or empty, per the ack_body option."""
    if engine().config.ack_body == "empty":
        return Response(b"", status=status)
    return json_response({}, status)


def problem(
    status: int, errors: dict[str, list[str]] | None = None, detail: str | None = None
) -> Response:
    """A 400/404/408/5xx answer: JSON problem details, or empty per the error_body option."""
    if engine().config.error_body == "empty":
        return Response(b"", status=status)
    body: dict[str, Any] = {"title": TITLES.get(status, "Error"), "status": status}
    if errors:
        body["title"] = "One or more validation errors occurred."
        body["errors"] = errors
        body["detail"] = "; ".join(f"{k}: {m}" for k, msgs in errors.items() for m in msgs)
    elif detail:
        body["detail"] = detail
    return json_response(body, status)


def unauthorized() -> Response:
    """401 with an empty body, as the reference describes."""
    return Response(b"", status=401, headers={"WWW-Authenticate": "Bearer"})


def bearer() -> TokenInfo | None:
    """Return the valid token of this request, or None."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return engine().auth.check_token(token.strip())


def body_lower() -> Any:
    """The request's JSON body with lower-cased keys, or None if it is not JSON."""
    data = request.get_json(force=True, silent=True)
    return None if data is None else lower_keys(data)


def drop_connection() -> Response:
    """Close the client's socket without sending any HTTP response."""
    sock = request.environ.get("werkzeug.socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    # Writing this response fails with EPIPE, which werkzeug treats as a dropped connection.
    return Response(b"dropped", status=500)
