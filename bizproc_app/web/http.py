"""Helpers shared by the Bitrix24-facing views: form parsing, JSON errors, frame headers."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request
from marshmallow import Schema, ValidationError

from bizproc_app.bitrix import OVERLOAD_ADVICE, BitrixError, OverloadLimit, parse_bracket_form
from bizproc_app.extensions import app_config

MAX_FORM_BYTES = 256 * 1024


class BadForm(ValueError):
    """The request body could not be parsed."""


def form_data() -> dict[str, Any]:
    """Return the body as nested data: bracket-keyed form (as Bitrix24 sends) or JSON."""
    if request.content_length and request.content_length > MAX_FORM_BYTES:
        raise BadForm("request body too large")
    if request.is_json:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise BadForm("body must be a JSON object")
    else:
        try:
            body = parse_bracket_form(request.form.items(multi=True))
        except ValueError as exc:
            raise BadForm(f"malformed form field: {exc}") from exc
    if (where := nul_at(body)) is not None:
        raise BadForm(f"{where}: NUL bytes are not allowed")
    return body


def json_body(schema: Schema) -> dict[str, Any]:
    """Load a JSON object body with a schema; ValidationError names the bad fields."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationError({"_body": ["Send a JSON object."]})
    if (where := nul_at(body)) is not None:
        raise ValidationError({where: ["NUL bytes are not allowed."]})
    loaded: dict[str, Any] = schema.load(body)
    return loaded


def nul_at(value: Any, path: str = "body") -> str | None:
    """Where a NUL byte hides in a key or string of parsed input (no database stores one)."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            if "\x00" in str(key):
                return path
            where = (str(key) or path) if path == "body" else f"{path}.{key}"
            if (found := nul_at(item, where)) is not None:
                return found
    if isinstance(value, list):
        for i, item in enumerate(value):
            if (found := nul_at(item, f"{path}[{i}]")) is not None:
                return found
    return None


def invalid_fields(exc: ValidationError) -> tuple[Response, int]:
    """The 400 of a JSON API whose body failed its schema (register with errorhandler)."""
    return error(400, "Please correct the highlighted fields.", field_errors(exc))


def field_errors(exc: ValidationError) -> dict[str, Any]:
    """marshmallow's messages keyed by field (a schema's load always gives a dict)."""
    messages = exc.messages
    return messages if isinstance(messages, dict) else {"_schema": messages}


def error(status: int, message: str, fields: dict[str, Any] | None = None) -> tuple[Response, int]:
    """One error shape for every JSON endpoint."""
    body: dict[str, Any] = {"error": message}
    if fields:
        body["errors"] = fields
    return jsonify(body), status


def frame_ancestors(domain: str) -> str:
    """The CSP that lets only the portal frame a page."""
    schemes = ["https"] + (["http"] if app_config().BITRIX_ALLOW_HTTP else [])
    sources = " ".join(f"{s}://{domain}" for s in schemes) if domain else "'none'"
    return f"frame-ancestors {sources}"


def refuse_framing(response: Response) -> Response:
    """Pages that set no frame policy of their own may not be framed at all."""
    csp = response.headers.get("Content-Security-Policy", "")
    if "frame-ancestors" not in csp:
        response.headers["Content-Security-Policy"] = (csp + "; " if csp else "") + (
            "frame-ancestors 'none'"
        )
        response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    return response


def bitrix_down(exc: BitrixError) -> tuple[Response, int]:
    """A JSON API's Bitrix24 call failed: 503 with advice if support blocked us, else 502."""
    if isinstance(exc, OverloadLimit):
        return error(503, OVERLOAD_ADVICE)
    return error(502, f"Bitrix24 did not answer as expected ({exc.code or 'error'}); try again.")
