"""RQ jobs. Each takes ids, is idempotent, and lets errors escape to RQ's retry."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import current_app
from sqlalchemy.orm import Session

from bizproc_app import calls
from bizproc_app.extensions import db
from bizproc_app.models import HandlerCall, Portal
from bizproc_app.services import bitrix_client_for, lifecycle


@contextmanager
def _session() -> Iterator[Session]:
    """A fresh database session for one job, removed afterwards."""
    try:
        yield db.session
    finally:
        current_app.extensions["database"].session.remove()


def report_call(call_id: int) -> str:
    """Verify a handler call through Bitrix24 and report its outcome to the workflow."""
    with _session() as session:
        call = session.get(HandlerCall, call_id)
        if call is None:
            return "missing"
        portal = session.get(Portal, call.portal_id)
        if portal is None or not portal.installed:
            return "portal gone"
        return calls.report(session, call, bitrix_client_for(portal))


def confirm_uninstall(member_id: str) -> str:
    """Purge a portal's secrets once Bitrix24 refuses our token; raise (and retry) until then."""
    with _session():
        lifecycle().confirm_uninstall(member_id)
        return "uninstalled"
