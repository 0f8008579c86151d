"""The admin settings page in a real browser, inside the simulated portal's application page.

`/app/?user=N` frames the app's main page (PLACEMENT=DEFAULT, posted to `POST /`): the settings
for administrators, a refusal for everyone else. Every request stays on 127.0.0.1 and the
console stays free of errors.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import FrameLocator, Locator, expect
from sqlalchemy import select

from bizproc_app.extensions import db
from bizproc_app.models import Terminal
from simulators.linkly import LinklySimulator
from tests.browser.support import (
    DOC_SCREENSHOTS,
    SCREENSHOTS,
    UPDATE_DOCS,
    Session,
    assert_loopback_only,
    frame_of,
    placement_iframe,
)
from tests.payment_fixtures import linkly_overrides, wait_for

DOC_LIMIT = 150_000


@pytest.fixture
def app_overrides(pinpads: LinklySimulator) -> dict[str, Any]:
    """The app pairs terminals with the Linkly simulator."""
    return linkly_overrides(pinpads)


@pytest.fixture
def installed(served_app: Any, ctl: Callable[..., Any]) -> Any:
    """The app installed on the portal (ONAPPINSTALL), no terminal yet."""
    assert ctl("POST", "install", {"mode": "event"})["status"] == 200
    return served_app


@pytest.fixture
def checked(session: Session) -> Iterator[Session]:
    """After the test: no console error, no failed response, nothing beyond loopback."""
    yield session
    assert not session.errors, session.errors
    assert_loopback_only(session.requests)


class AppPage:
    """The portal's application page for one user, our settings in its iframe."""

    def __init__(self, session: Session, portal: str, user: int) -> None:
        self.page = session.page
        self.page.goto(f"{portal}/app/?user={user}", wait_until="load")
        self.frame: FrameLocator = frame_of(self.page, "DEFAULT")
        self.iframe: Locator = self.page.locator(placement_iframe("DEFAULT"))

    def t(self, name: str) -> Locator:
        """The element with data-test=name inside the app's frame."""
        return self.frame.locator(f'[data-test="{name}"]')

    def shot(self, name: str, doc: str = "") -> None:
        """Screenshot of the app's frame, once the portal has fitted it to the content."""
        root = self.frame.locator(".pos-root")

        def fitted() -> bool:
            content = root.evaluate("n => Math.ceil(n.offsetHeight)")
            frame = self.iframe.evaluate("f => Math.round(f.getBoundingClientRect().height)")
            return abs(frame - content) <= 4

        wait_for(fitted, 10, "the frame to fit its content")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.iframe.screenshot(path=str(path))
        if doc and UPDATE_DOCS:
            DOC_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, DOC_SCREENSHOTS / f"{doc}.png")
            size = (DOC_SCREENSHOTS / f"{doc}.png").stat().st_size
            assert size < DOC_LIMIT, f"{doc}.png is {size} bytes"


def test_a_non_admin_is_refused_the_settings(
    checked: Session, b24: Any, installed: Any, ctl: Callable[..., Any]
) -> None:
    app = AppPage(checked, b24.urls["portal"], user=2)  # Bob Cashier, no admin rights
    expect(app.t("not-admin")).to_be_visible()
    expect(app.t("not-admin")).to_contain_text("Administrators only")
    for admin_only in ("terminal-form", "registration-status", "refund-rights", "load-error"):
        expect(app.t(admin_only)).to_have_count(0)
    # The page asked for none of the admins' data (the API would refuse it with 403).
    api = [urlsplit(u).path for u in checked.requests if urlsplit(u).path.startswith("/api/")]
    assert api == [], api
    app.shot("settings-not-admin")


def test_the_admin_pairs_a_terminal(
    checked: Session, b24: Any, installed: Any, pinpads: LinklySimulator
) -> None:
    app = AppPage(checked, b24.urls["portal"], user=1)  # Anna Admin
    expect(app.t("registration-status")).to_have_attribute("data-ok", "true")
    expect(app.t("not-admin")).to_have_count(0)
    expect(app.t("terminal-table")).to_contain_text("No terminal yet")

    form = app.t("terminal-form")
    app.t("terminal-name").fill("Front desk")
    app.t("terminal-username").fill("shop")
    app.t("terminal-password").fill("wrong-pass")
    app.t("terminal-pair-code").fill("111111")
    app.t("pair-terminal").click()
    expect(app.t("terminal-form-error")).to_contain_text("Linkly refused the pairing")
    expect(app.t("terminal-password")).to_have_value("")  # used once, never kept
    # Linkly refused the password: the API answered 400 (Chromium logs the failed request).
    refused = [e for e in checked.errors if "/api/terminals/pair" in e]
    assert refused and refused == checked.errors, checked.errors
    checked.errors.clear()

    # Only chosen clerks: the portal's user dialog (SDK selectUsers) picks Anna.
    app.t("terminal-shared").click()
    app.t("terminal-users-choose").click()
    expect(app.t("terminal-users-selected-1")).to_contain_text("Anna Admin")
    assert {"cmd": "selectUser", "params": {"mult": True}} in app.page.evaluate("window.__b24log")
    app.t("terminal-password").fill("shop-pass")
    app.t("pair-terminal").click()
    expect(app.t("terminal-form-done")).to_contain_text("“Front desk” is ready.")
    expect(app.t("terminal-password")).to_have_value("")
    expect(form).to_be_visible()

    with installed.app_context():
        terminal = db.session.scalars(select(Terminal)).one()
        terminal_id, shared, users = terminal.id, terminal.shared, terminal.user_ids
    assert shared is False and users == [1]
    row = app.t(f"terminal-row-{terminal_id}")
    expect(row).to_contain_text("Front desk")
    expect(row).to_contain_text("AUD")
    expect(app.t("terminal-table")).to_contain_text("Anna Admin")
    app.t(f"test-terminal-{terminal_id}").click()
    expect(app.t(f"test-result-{terminal_id}")).to_have_attribute("data-ok", "true")
    expect(app.t(f"terminal-status-{terminal_id}")).to_have_text("logged on")
    app.shot("settings-terminal-paired", doc="settings")
