"""Portals: lookup, application-token checks and the database-backed Bitrix24 token store."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bizproc_app.bitrix import PortalTokens
from bizproc_app.models import JournalEntry, Portal
from bizproc_app.storage.secret_box import SecretBox


def find_portal(session: Session, member_id: str) -> Portal | None:
    """Return the portal with this member id, installed or not."""
    if not member_id or "\x00" in member_id:  # PostgreSQL refuses NUL rather than matching
        return None
    return session.scalar(select(Portal).where(Portal.member_id == member_id))


def application_token_matches(portal: Portal | None, token: str, box: SecretBox) -> bool:
    """Compare an incoming application_token with the stored one in constant time."""
    stored = (
        box.decrypt(portal.application_token_enc) if portal and portal.application_token_enc else ""
    )
    # Compare even when nothing is stored, so timing tells nothing about which portals exist.
    return hmac.compare_digest(stored.encode(), (token or "").encode()) and bool(stored)


def journal(
    session: Session,
    entry: str,
    *,
    portal: Portal | int | None,
    subject: str = "",
    **detail: object,
) -> None:
    """Append one journal entry (committed with the caller's transaction)."""
    portal_id = portal.id if isinstance(portal, Portal) else portal
    session.add(JournalEntry(portal_id=portal_id, kind=entry, subject=subject, detail=detail))


class DbTokenStore:
    """Keeps each portal's OAuth pair encrypted in the portals table (a bitrix.TokenStore)."""

    def __init__(self, session_factory: Callable[[], Session], box: SecretBox) -> None:
        self._sessions = session_factory
        self._box = box

    def load(self, member_id: str) -> PortalTokens:
        """Return the portal's tokens; KeyError when it has none (uninstalled or unknown)."""
        with self._sessions() as session:
            portal = find_portal(session, member_id)
            if portal is None or not portal.access_token_enc or not portal.refresh_token_enc:
                raise KeyError(member_id)
            expires = portal.token_expires_at.timestamp() if portal.token_expires_at else 0.0
            return PortalTokens(
                access_token=self._box.decrypt(portal.access_token_enc),
                refresh_token=self._box.decrypt(portal.refresh_token_enc),
                expires_at=expires,
            )

    def save(self, member_id: str, tokens: PortalTokens) -> None:
        """Replace the portal's tokens and commit at once: the old refresh token is dead."""
        with self._sessions() as session:
            portal = find_portal(session, member_id)
            if portal is None:
                raise KeyError(member_id)
            portal.set_tokens(self._box, access=tokens.access_token, refresh=tokens.refresh_token)
            portal.token_expires_at = datetime.fromtimestamp(tokens.expires_at, UTC)
            journal(session, "bitrix.token_refreshed", portal=portal)
            session.commit()
