"""The install page finishes the installation through @bitrix24/b24jssdk in a real browser.

The simulator's /install/ page frames our install URL with the frame POST, like the portal's
install wizard; our page loads the SDK, asks the portal for its init data over postMessage and
calls installFinish(). Everything stays on 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Frame, Page, Response

from tests.integration.bitrix.test_lifecycle import ACTIVITIES, PLACEMENTS, ROBOTS

TIMEOUT_MS = 20_000


@dataclass
class Session:
    """A page of a fresh browser context and what it did."""

    page: Page
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def app_frame(self, app_url: str) -> Frame:
        """The iframe showing our app (waits until it has navigated to the app's origin)."""
        self.page.wait_for_selector("iframe[data-b24]", state="attached", timeout=TIMEOUT_MS)
        origin = app_url.rstrip("/")
        for _ in range(TIMEOUT_MS // 100):
            for frame in self.page.frames:
                if frame.url.startswith(origin):
                    return frame
            self.page.wait_for_timeout(100)
        raise AssertionError(f"no frame at {origin}: {[f.url for f in self.page.frames]}")


@pytest.fixture
def session(browser: Browser) -> Iterator[Session]:
    """A fresh context (no cookies, no storage) recording requests, errors and failed responses."""
    context = browser.new_context()
    page = context.new_page()
    s = Session(page)

    def on_response(resp: Response) -> None:
        if resp.status >= 400:
            s.errors.append(f"HTTP {resp.status} {resp.url}")

    def on_console(msg: ConsoleMessage) -> None:
        if msg.type in ("error", "warning"):
            s.errors.append(f"console.{msg.type}: {msg.text} at {msg.location}")

    page.on("request", lambda req: s.requests.append(req.url))
    page.on("response", on_response)
    page.on("console", on_console)
    page.on("pageerror", lambda exc: s.errors.append(f"pageerror: {exc}"))
    try:
        yield s
    finally:
        context.close()


def _registered(ctl: Callable[..., Any]) -> tuple[set[str], set[str], set[tuple[str, str]]]:
    state = ctl("GET", "state")
    acts = state["activities"]
    robots = {code for code, a in acts.items() if a["IS_ROBOT"] == "Y"}
    activities = {code for code, a in acts.items() if a["IS_ROBOT"] != "Y"}
    placements = {(p["placement"], p["title"]) for p in state["placements"]}
    return robots, activities, placements


def _assert_loopback_only(urls: list[str]) -> None:
    assert urls, "the browser made no request at all"
    off = [u for u in urls if urlsplit(u).hostname != "127.0.0.1"]
    assert not off, f"requests left loopback: {off}"


def _open_install_page(session: Session, b24: Any) -> Frame:
    session.page.goto(f"{b24.urls['portal']}/install/?user=1", wait_until="load")
    frame = session.app_frame(b24.config.app_url)
    frame.wait_for_selector('#status[data-state="installed"], #status[data-state="failed"]')
    return frame


def test_install_page_finishes_the_installation_through_the_sdk(
    session: Session,
    b24: Any,
    served_app: Any,
    ctl: Callable[..., Any],
) -> None:
    assert ctl("GET", "state")["app"]["installed"] is False
    frame = _open_install_page(session, b24)
    status = frame.locator("#status")
    assert status.get_attribute("data-state") == "installed", status.inner_text()
    assert status.inner_text().startswith("Installed.")
    session.page.screenshot(path="/tmp/install.png", full_page=True)

    assert ctl("GET", "state")["app"]["installed"] is True
    robots, activities, placements = _registered(ctl)
    assert robots == ROBOTS and activities == ACTIVITIES and placements == PLACEMENTS
    # The SDK asked the portal for its init data, then finished the installation.
    commands = [c["cmd"] for c in session.page.evaluate("window.__b24log || []")]
    assert commands == ["getInitData", "setInstallFinish"]
    assert not session.errors, session.errors
    _assert_loopback_only(session.requests)
    hit = {urlsplit(u).path for u in session.requests}
    assert {"/install/", "/bitrix/install", "/static/vendor/b24jssdk.min.js"} <= hit


def test_install_page_when_already_installed(
    session: Session,
    b24: Any,
    served_app: Any,
    ctl: Callable[..., Any],
) -> None:
    sent = ctl("POST", "install", {"mode": "frame", "user_id": 1, "finish": True})
    assert sent["status"] == 200, sent["response"]
    assert ctl("GET", "state")["app"]["installed"] is True

    frame = _open_install_page(session, b24)
    status = frame.locator("#status")
    assert status.get_attribute("data-state") == "installed", status.inner_text()
    assert status.inner_text().startswith("Already installed")

    assert ctl("GET", "state")["app"]["installed"] is True
    robots, activities, placements = _registered(ctl)
    assert robots == ROBOTS and activities == ACTIVITIES and placements == PLACEMENTS
    # No installFinish on an installed app: the SDK only fetched its init data.
    commands = [c["cmd"] for c in session.page.evaluate("window.__b24log || []")]
    assert commands == ["getInitData"]
    assert not session.errors, session.errors
    _assert_loopback_only(session.requests)
