"""Shared pieces of the /_sim/ control API: its blueprint class, request body, errors, index.

Each control_*.py module holds one ControlBlueprint with its routes at module level; the views
reach the simulator's state through current_portal(), so several simulator apps in one process
share nothing but the (read-only) route tables built at import time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, Response, request

from .http_rest import json_response
from .util import ApiError

URL_PREFIX = "/_sim"


class ControlBlueprint(Blueprint):
    """A /_sim/ blueprint that also records each route's methods and one-line description."""

    def __init__(self, name: str, import_name: str) -> None:
        super().__init__(name, import_name, url_prefix=URL_PREFIX)
        self.described: list[tuple[str, str, str]] = []

    def doc_route(self, rule: str, methods: list[str], doc: str) -> Callable[[Callable], Callable]:
        """Register a control route and its description for GET /_sim/."""
        self.described.append((" ".join(methods), URL_PREFIX + rule, doc))
        return self.route(rule, methods=methods)


def control_routes(app: Flask) -> list[dict[str, str]]:
    """Every control route of app, blueprint by blueprint in registration order."""
    return [
        {"methods": m, "path": p, "description": d}
        for bp in app.blueprints.values()
        if isinstance(bp, ControlBlueprint)
        for m, p, d in bp.described
    ]


def body() -> dict[str, Any]:
    """The JSON (or form) body of a control request."""
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else request.values.to_dict()


def error(err: ApiError) -> Response:
    """A control-API error."""
    return json_response(err.body(), err.status)
