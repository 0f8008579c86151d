"""A real headless Chromium (Debian's package) driven by Playwright, plus the simulator fixtures."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.browser.support import Session

CHROMIUM = Path("/usr/bin/chromium")
SDK = Path(__file__).resolve().parents[2] / "bizproc_app/static/vendor/b24jssdk.min.js"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless, for the whole run (never a browser Playwright downloads)."""
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(f"{CHROMIUM} is missing: the browser tests need `apt-get install chromium`")
    if not SDK.is_file():
        pytest.fail(f"{SDK} is missing: run `make assets` (npm ci + copy of @bitrix24/b24jssdk)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def session(browser: Browser) -> Iterator[Session]:
    """A fresh context (no cookies, no storage) recording requests, errors and failed responses."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        yield Session(context)
    finally:
        context.close()
