"""Install, update and uninstall, driven by the Bitrix24 simulator over loopback."""

from __future__ import annotations

import requests
from sqlalchemy import func, select

from bizproc_app.extensions import db, secrets
from bizproc_app.models import JournalEntry, Portal, Terminal

ROBOTS = {"linkly_pos_payment", "linkly_pos_refund"}
ACTIVITIES = {"linkly_pos_payment_bp", "linkly_pos_refund_bp"}
PLACEMENTS = {
    ("CRM_DEAL_DETAIL_TAB", "POS payments"),
    ("CRM_SMART_INVOICE_DETAIL_TAB", "POS payments"),
    ("CRM_DEAL_DETAIL_TOOLBAR", "Receive Payment"),
}


def _registered(ctl) -> tuple[set, set, list, list]:
    state = ctl("GET", "state")
    acts = state["activities"]
    robots = {code for code, a in acts.items() if a["IS_ROBOT"] == "Y"}
    activities = {code for code, a in acts.items() if a["IS_ROBOT"] != "Y"}
    placements = sorted((p["placement"], p["title"]) for p in state["placements"])
    events = sorted(b["event"] for b in state["bindings"])
    return robots, activities, placements, events


def _portal(app) -> Portal | None:
    with app.app_context():
        portal = db.session.scalar(select(Portal))
        db.session.expunge_all()
        return portal


def test_frame_install_registers_everything_once_even_when_run_twice(served_app, ctl) -> None:
    for _ in range(2):
        sent = ctl("POST", "install", {"mode": "frame", "user_id": 1})
        assert sent["status"] == 200, sent["response"]
        assert 'data-state="finishing"' in sent["response"]
        assert "b24jssdk.min.js" in sent["response"]
    robots, activities, placements, events = _registered(ctl)
    assert robots == ROBOTS and activities == ACTIVITIES
    assert placements == sorted(PLACEMENTS)
    assert events == ["ONAPPUNINSTALL", "ONAPPUPDATE"]
    state = ctl("GET", "state")
    robot = state["activities"]["linkly_pos_payment"]
    assert robot["USE_SUBSCRIPTION"] == "Y" and robot["AUTH_USER_ID"] == 1
    assert robot["HANDLER"].endswith("/bitrix/handler")
    portal = _portal(served_app)
    assert portal is not None and portal.installed and portal.auth_user_id == 1
    assert portal.client_endpoint == state["client_endpoint"]
    with served_app.app_context():
        stored = secrets.box.decrypt(portal.application_token_enc)
    assert stored == state["app"]["application_token"]
    # The second install read what was there and only updated robots and activities.
    counts = ctl("GET", "requests")["batch_commands"]
    assert counts["bizproc.robot.add"] == 2 and counts["bizproc.robot.update"] == 2
    assert counts["placement.bind"] == 3 and counts["event.bind"] == 2


def test_event_install_registers_everything(served_app, ctl) -> None:
    sent = ctl("POST", "install", {"mode": "event"})
    assert sent["status"] == 200, sent["response"]
    robots, activities, placements, events = _registered(ctl)
    assert robots == ROBOTS and activities == ACTIVITIES and len(placements) == 3
    assert events == ["ONAPPUNINSTALL", "ONAPPUPDATE"]


def test_install_repairs_a_missing_registration(served_app, ctl, b24) -> None:
    ctl("POST", "install", {"mode": "event"})
    b24.portal.activities.pop("linkly_pos_refund")
    b24.portal.placements.pop()
    ctl("POST", "install", {"mode": "event"})
    robots, _, placements, _ = _registered(ctl)
    assert robots == ROBOTS and len(placements) == 3


def test_update_reregisters_and_rotates_the_application_token(served_app, ctl) -> None:
    ctl("POST", "install", {"mode": "event"})
    old_token = ctl("GET", "state")["app"]["application_token"]
    sent = ctl("POST", "app/update", {})
    assert sent["sent"][0]["status"] == 200, sent
    state = ctl("GET", "state")
    assert state["app"]["application_token"] != old_token
    robots, activities, placements, events = _registered(ctl)
    assert robots == ROBOTS and activities == ACTIVITIES and len(placements) == 3
    assert events == ["ONAPPUNINSTALL", "ONAPPUPDATE"]
    portal = _portal(served_app)
    with served_app.app_context():
        assert (
            secrets.box.decrypt(portal.application_token_enc) == state["app"]["application_token"]
        )


def test_uninstall_purges_tokens_and_linkly_secrets_but_keeps_the_portal(served_app, ctl) -> None:
    ctl("POST", "install", {"mode": "event"})
    with served_app.app_context():
        portal = db.session.scalar(select(Portal))
        terminal = Terminal(portal=portal, name="Front")
        terminal.set_secret(secrets.box, "linkly-secret")
        db.session.add(terminal)
        db.session.commit()
    sent = ctl("POST", "app/uninstall", {})
    assert sent["sent"][0]["status"] == 200, sent
    with served_app.app_context():
        portal = db.session.scalar(select(Portal))
        assert portal.access_token_enc is None and portal.refresh_token_enc is None
        assert not portal.installed and portal.uninstalled_at is not None
        assert db.session.scalar(select(Terminal)).secret_enc is None


def test_forged_install_is_refused_and_stores_nothing(served_app, app_port: int) -> None:
    form = {
        "AUTH_ID": "forged-access-token",
        "REFRESH_ID": "forged-refresh-token",
        "AUTH_EXPIRES": "3600",
        "member_id": "a" * 32,
        "APPLICATION_TOKEN": "b" * 32,
        "status": "L",
    }
    resp = requests.post(
        f"http://127.0.0.1:{app_port}/bitrix/install",
        params={"DOMAIN": "evil.example.com"},
        data=form,
        timeout=10,
    )
    assert resp.status_code == 401
    assert "Installation refused" in resp.text
    assert "forged-access-token" not in resp.text
    assert _portal(served_app) is None


def test_forged_update_is_refused_and_changes_nothing(served_app, ctl, app_port: int) -> None:
    ctl("POST", "install", {"mode": "event"})
    state = ctl("GET", "state")
    before = _portal(served_app)
    resp = requests.post(
        f"http://127.0.0.1:{app_port}/bitrix/events",
        data={
            "event": "ONAPPUPDATE",
            "auth[member_id]": state["member_id"],
            "auth[domain]": state["domain"],
            "auth[access_token]": "made-up-token",
            "auth[refresh_token]": "made-up-refresh",
            "auth[application_token]": "c" * 32,
        },
        timeout=10,
    )
    assert resp.status_code == 401, resp.text
    after = _portal(served_app)
    assert after.application_token_enc == before.application_token_enc
    assert after.access_token_enc == before.access_token_enc


def test_forged_uninstall_is_never_obeyed_while_the_app_is_still_installed(
    served_app, ctl, app_port: int, run_jobs
) -> None:
    ctl("POST", "install", {"mode": "event"})
    state = ctl("GET", "state")
    url = f"http://127.0.0.1:{app_port}/bitrix/events"
    base = {"event": "ONAPPUNINSTALL", "auth[member_id]": state["member_id"]}
    wrong = requests.post(url, data={**base, "auth[application_token]": "d" * 32}, timeout=10)
    assert wrong.status_code == 401
    # The right application token (every user's browser has it) but the portal still knows us:
    # the app checks again later and keeps refusing while the token works.
    right = {**base, "auth[application_token]": state["app"]["application_token"]}
    resp = requests.post(url, data=right, timeout=10)
    assert resp.status_code == 202 and resp.json()["status"] == "pending"
    assert run_jobs() == 1
    portal = _portal(served_app)
    assert portal.installed and portal.access_token_enc is not None
    with served_app.app_context():
        assert (
            db.session.scalar(select(func.count()).where(JournalEntry.kind == "bitrix.uninstalled"))
            == 0
        )


def test_uninstall_delivered_before_the_portal_revokes_is_confirmed_later(
    served_app, ctl, b24, run_jobs
) -> None:
    ctl("POST", "install", {"mode": "event"})
    b24.portal.cfg.uninstall_revokes_first = False
    sent = ctl("POST", "app/uninstall", {})
    assert sent["sent"][0]["status"] == 202
    assert _portal(served_app).access_token_enc is not None
    assert run_jobs() == 1
    portal = _portal(served_app)
    assert not portal.installed and portal.access_token_enc is None


def test_every_lifecycle_step_is_journaled(served_app, ctl) -> None:
    ctl("POST", "install", {"mode": "event"})
    ctl("POST", "app/update", {})
    ctl("POST", "app/uninstall", {})
    with served_app.app_context():
        kinds: dict[str, int] = dict(
            db.session.execute(
                select(JournalEntry.kind, func.count()).group_by(JournalEntry.kind)
            ).all()
        )
    assert kinds["bitrix.install"] == 1 and kinds["bitrix.update"] == 1
    assert kinds["bitrix.registered"] == 2 and kinds["bitrix.uninstalled"] == 1


class _NoJobs:
    def send_next(self, terminal_id: int) -> None: ...
    def recover(self, payment_id: str) -> None: ...
    def reports(self, portal_id: int) -> None: ...
    def calls(self, portal_id: int) -> None: ...


def test_uninstall_keeps_a_secret_a_payment_in_flight_needs_until_it_ends(served_app, ctl) -> None:
    from bizproc_app.models import Payment
    from bizproc_app.payments.sweep import Sweep

    ctl("POST", "install", {"mode": "event"})
    with served_app.app_context():
        portal = db.session.scalar(select(Portal))
        busy, idle = Terminal(portal=portal, name="Busy"), Terminal(portal=portal, name="Idle")
        for terminal in (busy, idle):
            terminal.set_secret(secrets.box, f"secret-of-{terminal.name}")
        db.session.add_all([busy, idle])
        db.session.flush()
        payment = Payment(
            portal_id=portal.id,
            terminal_id=busy.id,
            kind="purchase",
            amount_cents=1000,
            currency="AUD",
            state="in_progress",
            source="cli",
        )
        db.session.add(payment)
        db.session.commit()
        ids = (busy.id, idle.id, payment.id)
    ctl("POST", "app/uninstall", {})
    with served_app.app_context():
        assert db.session.get(Terminal, ids[0]).secret_enc is not None  # still needed
        assert db.session.get(Terminal, ids[1]).secret_enc is None
        db.session.get(Payment, ids[2]).state = "approved"
        db.session.commit()
        Sweep(served_app.config["APP_CONFIG"], db.session, _NoJobs()).run()
        assert db.session.get(Terminal, ids[0]).secret_enc is None
