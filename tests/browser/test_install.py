"""The install page finishes the installation through @bitrix24/b24jssdk in a real browser.

The simulator's /install/ page frames our install URL with the frame POST, like the portal's
install wizard; our page loads the SDK, asks the portal for its init data over postMessage and
calls installFinish(). Everything stays on 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import Frame

from tests.browser.support import Session, assert_loopback_only
from tests.integration.bitrix.test_lifecycle import ACTIVITIES, PLACEMENTS, ROBOTS


def _registered(ctl: Callable[..., Any]) -> tuple[set[str], set[str], set[tuple[str, str]]]:
    state = ctl("GET", "state")
    acts = state["activities"]
    robots = {code for code, a in acts.items() if a["IS_ROBOT"] == "Y"}
    activities = {code for code, a in acts.items() if a["IS_ROBOT"] != "Y"}
    placements = {(p["placement"], p["title"]) for p in state["placements"]}
    return robots, activities, placements


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
    assert_loopback_only(session.requests)
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
    assert_loopback_only(session.requests)
