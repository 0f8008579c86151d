"""Domain services bound to the current app, for views, jobs and the CLI alike."""

from __future__ import annotations

from flask import current_app

from bizproc_app.bitrix import BitrixClient
from bizproc_app.clients import bitrix_client, linkly_client, oauth_client
from bizproc_app.extensions import db, redis_conn, secrets
from bizproc_app.installation import Lifecycle
from bizproc_app.linkly import LinklyClient
from bizproc_app.models import Portal
from bizproc_app.payments.pipeline import Pipeline
from workers.queues import enqueue_reports, enqueue_send_next


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


class RqJobs:
    """The pipeline's next steps, as RQ jobs."""

    def send_next(self, terminal_id: int) -> None:
        """Queue the terminal's next payment."""
        enqueue_send_next(redis_conn.client, terminal_id)

    def report(self, portal_id: int) -> None:
        """Queue the portal's reports to Bitrix24."""
        enqueue_reports(redis_conn.client, portal_id)


def linkly() -> LinklyClient:
    """The Linkly client, its token cache shared through Redis."""
    return linkly_client(
        current_app.config["APP_CONFIG"], redis_client=redis_conn.client, box=secrets.box
    )


def pipeline() -> Pipeline:
    """The payment pipeline bound to the current app."""
    return Pipeline(current_app.config["APP_CONFIG"], db.session, linkly(), secrets.box, RqJobs())
