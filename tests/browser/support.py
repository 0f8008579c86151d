"""What the browser tests share: a recorded browser context, screenshots of the app's frame
once the portal has fitted it, and the loopback check."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import (
    BrowserContext,
    ConsoleMessage,
    Frame,
    FrameLocator,
    Locator,
    Page,
    Response,
)

from tests.helpers.waiting import wait_for

TIMEOUT_MS = 20_000
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts/screenshots"
DOC_SCREENSHOTS = ROOT / "docs/screenshots"
# The README's pictures change only on purpose: UPDATE_DOC_SCREENSHOTS=1 make test.
UPDATE_DOCS = bool(os.environ.get("UPDATE_DOC_SCREENSHOTS"))
DOC_LIMIT = 150_000  # bytes: the README's pictures stay small


@dataclass
class Session:
    """A fresh browser context and what its pages did: every request, every error."""

    context: BrowserContext
    page: Page = field(init=False)
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.context.set_default_timeout(TIMEOUT_MS)
        self.page = self.new_page()

    def new_page(self) -> Page:
        """Another tab of the same context, recorded like the first."""
        page = self.context.new_page()

        def on_response(resp: Response) -> None:
            if resp.status >= 400:
                self.errors.append(f"HTTP {resp.status} {resp.url}")

        def on_console(msg: ConsoleMessage) -> None:
            if msg.type in ("error", "warning"):
                self.errors.append(f"console.{msg.type}: {msg.text} at {msg.location}")

        page.on("request", lambda req: self.requests.append(req.url))
        page.on("response", on_response)
        page.on("console", on_console)
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        return page

    def app_frame(self, app_url: str, page: Page | None = None) -> Frame:
        """The iframe showing our app (waits until it has navigated to the app's origin)."""
        page = page or self.page
        page.wait_for_selector("iframe[data-b24]", state="attached", timeout=TIMEOUT_MS)
        origin = app_url.rstrip("/")
        for _ in range(TIMEOUT_MS // 100):
            for frame in page.frames:
                if frame.url.startswith(origin):
                    return frame
            page.wait_for_timeout(100)
        raise AssertionError(f"no frame at {origin}: {[f.url for f in page.frames]}")


def placement_iframe(placement: str) -> str:
    """CSS selector of the portal's iframe showing one placement (its data-b24 names it)."""
    return f'iframe[data-b24*=\'"placement": "{placement}"\']'


def frame_of(page: Page, placement: str) -> FrameLocator:
    """The placement's iframe, for Playwright's frame locators."""
    return page.frame_locator(placement_iframe(placement))


def content_height(frame: FrameLocator) -> int:
    """Height of the app's content inside its frame."""
    return int(frame.locator(".pos-root").evaluate("n => Math.ceil(n.offsetHeight)"))


def frame_height(iframe: Locator) -> int:
    """Height of the portal's iframe element."""
    return int(iframe.evaluate("f => Math.round(f.getBoundingClientRect().height)"))


def wait_fitted(iframe: Locator, frame: FrameLocator) -> None:
    """The portal resized the iframe to the app's content (SDK resizeWindow)."""

    def fitted() -> bool:
        return abs(frame_height(iframe) - content_height(frame)) <= 4

    try:
        wait_for(fitted, 10, "the frame to fit its content")
    except TimeoutError:
        raise AssertionError(
            f"iframe {frame_height(iframe)}px, content {content_height(frame)}px"
        ) from None


def screenshot(iframe: Locator, frame: FrameLocator, name: str, doc: str = "") -> None:
    """Screenshot of the app's frame, once the portal has fitted it to the content, under
    test-artifacts/screenshots/; copied to docs/screenshots/DOC.png with UPDATE_DOCS."""
    wait_fitted(iframe, frame)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    iframe.screenshot(path=str(path))
    if doc and UPDATE_DOCS:
        DOC_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOC_SCREENSHOTS / f"{doc}.png")
        size = (DOC_SCREENSHOTS / f"{doc}.png").stat().st_size
        assert size < DOC_LIMIT, f"{doc}.png is {size} bytes"


def assert_loopback_only(urls: list[str]) -> None:
    """Every request the browser made went to 127.0.0.1."""
    assert urls, "the browser made no request at all"
    off = [u for u in urls if urlsplit(u).hostname != "127.0.0.1"]
    assert not off, f"requests left loopback: {off}"
