"""Keep every portal's refresh token alive: Bitrix24 drops one that goes unused for 180 days.

The app refreshes a portal's tokens when a call meets `expired_token`; a portal whose robots are
quiet for six months would then have nothing left to refresh with. The scheduler refreshes each
installed portal that has not been refreshed for IDLE (journaled either way).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bizproc_app.bitrix import BitrixError, TokenRefresher, TokenStore
from bizproc_app.models import Portal, utcnow
from bizproc_app.portals.access import journal

IDLE = timedelta(days=30)


def refresh_idle_portals(
    session: Session, refresher: TokenRefresher, store: TokenStore, *, now: datetime | None = None
) -> int:
    """Refresh the installed portals last refreshed over IDLE ago; return how many succeeded."""
    cutoff = (now or utcnow()) - IDLE
    idle = session.scalars(
        select(Portal).where(
            Portal.installed,
            Portal.refresh_token_enc.is_not(None),
            or_(Portal.token_expires_at.is_(None), Portal.token_expires_at < cutoff),
        )
    ).all()
    refreshed = 0
    for portal in idle:
        member_id, portal_id = portal.member_id, portal.id
        try:
            stale = store.load(member_id).access_token
            refresher.refresh(member_id, stale_access_token=stale)
        except (BitrixError, KeyError) as exc:
            code = getattr(exc, "code", "") or type(exc).__name__
            journal(session, "bitrix.token_upkeep_failed", portal=portal_id, error=code)
        else:
            refreshed += 1
            journal(session, "bitrix.token_upkeep", portal=portal_id, idle_days=IDLE.days)
        session.commit()
    return refreshed
