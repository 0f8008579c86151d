"""A portal whose robots stay quiet for months keeps a working refresh token.

Bitrix24 (and the simulator, by its own clock) drops a refresh token unused for 180 days. The
scheduler's hourly upkeep refreshes every installed portal not refreshed for 30 days, so a call
after half a year of silence still finds a live refresh token.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bizproc_app.bitrix import InvalidGrant
from bizproc_app.extensions import db, redis_conn
from bizproc_app.models import JournalEntry, Portal
from bizproc_app.wiring.services import bitrix_client_for
from workers.jobs import sweep_once

DAY = 86400


def _portal() -> Portal:
    portal = db.session.scalar(select(Portal))
    assert portal is not None
    return portal


def _idle_for(days: int) -> None:
    """As if the portal's tokens were last refreshed `days` ago."""
    _portal().token_expires_at = datetime.now(UTC) - timedelta(days=days)
    db.session.commit()


def _kinds() -> list[str]:
    entries = select(JournalEntry.kind).where(JournalEntry.kind.like("bitrix.token_upkeep%"))
    return list(db.session.scalars(entries))


@pytest.fixture
def installed(served_app, ctl):
    assert ctl("POST", "install", {"mode": "event"})["status"] == 200
    with served_app.app_context():
        redis_conn.client.delete("upkeep:tokens")
    return served_app


def test_a_quiet_portal_is_refreshed_monthly_and_still_works_after_half_a_year(
    installed, ctl
) -> None:
    with installed.app_context():
        assert sweep_once().get("tokens_refreshed") == 0  # just installed: nothing to do
        _idle_for(31)
        ctl("POST", "clock/advance", {"seconds": 31 * DAY})
        assert sweep_once().get("tokens_refreshed") is None  # the upkeep runs once an hour
        redis_conn.client.delete("upkeep:tokens")  # an hour later
        assert sweep_once()["tokens_refreshed"] == 1
        assert _kinds() == ["bitrix.token_upkeep"]
        # 31 + 170 days after the install: the install's refresh token would be dead by now.
        ctl("POST", "clock/advance", {"seconds": 170 * DAY})
        answer = bitrix_client_for(_portal()).call("app.info")  # expired_token -> refresh
        assert answer.result["INSTALLED"] is True


def test_without_the_upkeep_half_a_year_of_silence_loses_the_portal(installed, ctl) -> None:
    with installed.app_context():
        ctl("POST", "clock/advance", {"seconds": 181 * DAY})
        with pytest.raises(InvalidGrant):
            bitrix_client_for(_portal()).call("app.info")
        assert _kinds() == []
