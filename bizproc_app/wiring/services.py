"""Domain services bound to the current app, for views, jobs and the CLI alike."""

from __future__ import annotations

from flask import Flask, current_app

from bizproc_app.bitrix import BitrixClient
from bizproc_app.extensions import app_config, db, redis_conn, secrets
from bizproc_app.linkly import LinklyClient
from bizproc_app.models import Portal
from bizproc_app.payments.queues import RqJobs
from bizproc_app.payments.service import PaymentService
from bizproc_app.portals.installation import Lifecycle
from bizproc_app.portals.token_upkeep import refresh_idle_portals
from bizproc_app.wiring.acting_user import is_admin, presented_token, user_client
from bizproc_app.wiring.clients import (
    bitrix_client,
    linkly_client,
    oauth_client,
    portal_token_refresher,
)


def bitrix_client_for(portal: Portal) -> BitrixClient:
    """A REST client for the portal's stored endpoint and tokens (never a caller's)."""
    return bitrix_client(
        app_config(),
        portal,
        redis_client=redis_conn.client,
        box=secrets.box,
        session_factory=current_app.extensions["database"].session.session_factory,
    )


def lifecycle() -> Lifecycle:
    """The install / update / uninstall service."""
    cfg = app_config()

    def presenter_is_admin(member_id: str, endpoint: str, access_token: str) -> bool:
        client = user_client(
            cfg,
            member_id=member_id,
            client_endpoint=endpoint,
            store=presented_token(member_id, access_token),
            redis_client=redis_conn.client,
            lock_name=f"install:{member_id}",
        )
        return is_admin(client)

    return Lifecycle(
        cfg, db.session, secrets.box, oauth_client(cfg), bitrix_client_for, presenter_is_admin
    )


def refresh_idle_tokens() -> int:
    """Refresh the portals whose tokens have not been refreshed for a month (token_upkeep)."""
    refresher, store = portal_token_refresher(
        app_config(),
        redis_client=redis_conn.client,
        box=secrets.box,
        session_factory=current_app.extensions["database"].session.session_factory,
    )
    return refresh_idle_portals(db.session, refresher, store)


def linkly() -> LinklyClient:
    """The Linkly client, its token cache shared through Redis."""
    return linkly_client(app_config(), redis_client=redis_conn.client, box=secrets.box)


def init_payments(app: Flask) -> None:
    """Build the payments service once for the app (after the extensions are bound)."""
    cfg, box, redis = (
        app_config(app),
        app.extensions["secret_box"],
        app.extensions["redis"],
    )
    app.extensions["payments"] = PaymentService(
        cfg=cfg,
        box=box,
        jobs=RqJobs(redis),
        sessions=app.extensions["database"].session,
        linkly=lambda: linkly_client(cfg, redis_client=redis, box=box),
    )


def payments() -> PaymentService:
    """The current app's payments service."""
    service: PaymentService = current_app.extensions["payments"]
    return service
