"""Domain services bound to the current app, for views, jobs and the CLI alike."""

from __future__ import annotations

from flask import current_app

from bizproc_app.bitrix import BitrixClient
from bizproc_app.clients import bitrix_client, oauth_client
from bizproc_app.extensions import db, redis_conn, secrets
from bizproc_app.installation import Lifecycle
from bizproc_app.models import Portal


def bitrix_client_for(portal: Portal) -> BitrixClient:
    """A REST client for the portal's stored endpoint and tokens (never a caller's)."""
    return bitrix_client(
        current_app.config["APP_CONFIG"],
        portal,
        redis_client=redis_conn.client,
        box=secrets.box,
        session_factory=current_app.extensions["database"].session.session_factory,
    )


def lifecycle() -> Lifecycle:
    """The install / update / uninstall service."""
    cfg = current_app.config["APP_CONFIG"]
    return Lifecycle(cfg, db.session, secrets.box, oauth_client(cfg), bitrix_client_for)
