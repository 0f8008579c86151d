"""Health endpoint: database and Redis reachability."""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import text

from bizproc_app.extensions import db, redis_conn

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)


def _check(name: str, probe: Callable[[], object]) -> dict[str, str]:
    try:
        probe()
    except Exception as exc:  # any failure means "down"; the reason is logged, not returned
        log.warning("health check %s failed: %s", name, type(exc).__name__)
        return {"status": "down", "error": type(exc).__name__}
    return {"status": "ok"}


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """Report whether the database and Redis answer."""
    checks = {
        "database": _check("database", lambda: db.session.execute(text("SELECT 1"))),
        "redis": _check("redis", redis_conn.client.ping),
    }
    healthy = all(c["status"] == "ok" for c in checks.values())
    body = {"status": "ok" if healthy else "unavailable", "checks": checks}
    return jsonify(body), 200 if healthy else 503
