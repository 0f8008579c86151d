"""Only a portal admin installs, re-installs or updates: a clerk's genuine token changes nothing.

Every user's browser receives an access token our app.info accepts (each frame POST carries one),
so app.info alone cannot tell the admin installing from a cashier replaying his own token.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests
from sqlalchemy import func, select

from bizproc_app.extensions import db
from bizproc_app.models import JournalEntry, Portal
from tests.helpers.bitrix24 import handler_call

CASHIER = 2  # the simulator's Bob Cashier: a user of the portal, not an admin
ADMIN = 1
REFUSED = "only a portal administrator may install, re-install or update the app"


@pytest.fixture
def installed(served_app, ctl) -> dict[str, Any]:
    """The app installed by the admin; the simulator's state."""
    assert ctl("POST", "install", {"mode": "event", "user_id": ADMIN})["status"] == 200
    return ctl("GET", "state")


def stored(app) -> dict[str, Any]:
    """What an install writes: the portal row's tokens and the journal's install entries."""
    with app.app_context():
        portal = db.session.scalar(select(Portal))
        kinds = ("bitrix.install", "bitrix.update", "bitrix.registered")
        entries = select(func.count()).where(JournalEntry.kind.in_(kinds))
        return {
            "tokens": (portal.access_token_enc, portal.refresh_token_enc),
            "application_token": portal.application_token_enc,
            "auth_user_id": portal.auth_user_id,
            "journal": db.session.scalar(entries),
        }


def registrations(ctl) -> Any:
    """Robots, activities, placements and event bindings on the portal."""
    state = ctl("GET", "state")
    return [state[k] for k in ("activities", "placements", "bindings")]


def cashier_tokens(ctl) -> dict[str, str]:
    """A genuine token pair of the cashier, as his browser gets it in any frame POST."""
    return ctl("POST", "token", {"user_id": CASHIER})


def robot_call_is_accepted(ctl) -> None:
    """A genuine robot call still passes the application-token check (200, queued)."""
    deal = ctl("POST", "deals", {"fields": {"title": "Lunch", "opportunity": 10}})
    properties = {"amount": "10.00", "currency": "AUD"}
    wf = ctl(
        "POST",
        "robots/run",
        {"id": deal["id"], "code": "linkly_pos_payment", "properties": properties},
    )
    entry = handler_call(ctl, wf["id"])
    assert entry["status"] == 200, entry["response"]
    assert '"queued"' in entry["response"]


def test_a_cashiers_frame_install_changes_nothing(
    served_app, ctl, installed, app_port: int
) -> None:
    before, registered = stored(served_app), registrations(ctl)
    tokens = cashier_tokens(ctl)
    form = {
        "AUTH_ID": tokens["access_token"],
        "REFRESH_ID": tokens["refresh_token"],
        "AUTH_EXPIRES": "3600",
        "member_id": installed["member_id"],
        "APPLICATION_TOKEN": "attacker-chosen-token",
        "status": "L",
    }
    resp = requests.post(
        f"http://127.0.0.1:{app_port}/bitrix/install",
        params={"DOMAIN": installed["domain"]},
        data=form,
        timeout=10,
    )
    assert resp.status_code == 403, resp.text
    assert f"Installation refused: {REFUSED}" in resp.text
    assert stored(served_app) == before
    assert registrations(ctl) == registered
    robot_call_is_accepted(ctl)


@pytest.mark.parametrize("event", ["ONAPPINSTALL", "ONAPPUPDATE"])
def test_a_lifecycle_event_with_a_cashiers_token_changes_nothing(
    served_app, ctl, installed, app_port: int, event
) -> None:
    before, registered = stored(served_app), registrations(ctl)
    tokens = cashier_tokens(ctl)
    auth = {
        "member_id": installed["member_id"],
        "domain": installed["domain"],
        "access_token": tokens["access_token"],
        "refresh_token": tokens["refresh_token"],
        "application_token": "attacker-chosen-token",
        "client_endpoint": installed["client_endpoint"],
    }
    path = "install" if event == "ONAPPINSTALL" else "events"
    resp = requests.post(
        f"http://127.0.0.1:{app_port}/bitrix/{path}",
        data={"event": event, **{f"auth[{k}]": v for k, v in auth.items()}},
        timeout=10,
    )
    assert (resp.status_code, resp.json()) == (403, {"error": REFUSED})
    assert stored(served_app) == before
    assert registrations(ctl) == registered
    robot_call_is_accepted(ctl)


def test_the_admins_genuine_update_still_goes_through(served_app, ctl, installed) -> None:
    before = stored(served_app)
    sent = ctl("POST", "app/update", {"user_id": ADMIN})
    assert sent["sent"][0]["status"] == 200, sent
    after = stored(served_app)
    assert after["application_token"] != before["application_token"]
    assert after["journal"] == before["journal"] + 2  # bitrix.update, bitrix.registered
    robot_call_is_accepted(ctl)


def test_an_update_delivered_with_a_non_admins_token_is_refused(served_app, ctl, installed) -> None:
    before = stored(served_app)
    sent = ctl("POST", "app/update", {"user_id": CASHIER})
    assert sent["sent"][0]["status"] == 403, sent
    assert stored(served_app) == before
