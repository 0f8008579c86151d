"""The clerk's payment screen in a real browser, inside the simulated portal's deal card.

The portal page frames our placement with the frame POST; the clerk works inside the iframe
(Playwright frame locators), and the cardholder works the virtual PIN pad page of the Linkly
simulator in a second tab (PIN pad in interactive mode). Real RQ worker and scheduler processes
run the payments. Every request stays on 127.0.0.1 and the console stays free of errors.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from playwright.sync_api import FrameLocator, Locator, Page, expect
from rq import Worker

from simulators.linkly import LinklyControl, LinklySimulator
from tests.browser.support import (
    Session,
    assert_loopback_only,
    content_height,
    frame_height,
    frame_of,
    placement_iframe,
    screenshot,
    wait_fitted,
)
from tests.helpers.waiting import wait_for
from tests.payment_fixtures import ledger, linkly_overrides

TAB = "CRM_DEAL_DETAIL_TAB"


@pytest.fixture
def app_overrides(pinpads: LinklySimulator) -> dict[str, Any]:
    """The app talks to the Linkly simulator; a person is slower than a test: longer deadline."""
    return {**linkly_overrides(pinpads), "PAYMENT_DEADLINE_SECONDS": 60.0}


@pytest.fixture
def interactive(pinpads: LinklySimulator) -> LinklySimulator:
    """PIN pad 1 waits for the virtual PIN pad page; a prompt waits long enough for a person."""
    with LinklyControl(pinpads.base_url) as control:
        control.change_pinpad("1", mode="interactive")
        control.configure(input_timeout=30)
    return pinpads


@pytest.fixture
def clerk(
    session: Session,
    b24: Any,
    shop: dict[str, Any],
    processes: Any,
    interactive: Any,
    redis_url: str,
) -> Iterator[Clerk]:
    """User 1 on the shop's deal card, with the workers running; checks errors and hosts after."""
    # A payment only moves once the workers listen (their start takes a few seconds).
    with redis.Redis.from_url(redis_url) as conn:
        wait_for(lambda: len(Worker.all(connection=conn)) >= 2, 60, "the RQ workers")
    clerk = Clerk(session, b24.urls["portal"], shop["deal_id"])
    yield clerk
    assert not session.errors, session.errors
    assert_loopback_only(session.requests)


class Clerk:
    """The clerk's view: the deal card of the simulated portal and our app in its iframe."""

    def __init__(self, session: Session, portal: str, deal_id: int, page: Page | None = None):
        self.session = session
        self.page = page or session.page
        self.page.goto(f"{portal}/crm/deal/details/{deal_id}/?user=1", wait_until="load")
        self.frame: FrameLocator = frame_of(self.page, TAB)
        self.iframe: Locator = self.page.locator(placement_iframe(TAB))
        expect(self.t("add-invoice")).to_be_visible()

    def t(self, name: str) -> Locator:
        """The element with data-test=name inside the app's frame."""
        return self.frame.locator(f'[data-test="{name}"]')

    def add_invoice(self, title: str, amount: str) -> int:
        """Add Invoice; returns the new invoice's id (read from its row)."""
        before = set(self.invoice_ids())
        self.t("add-invoice").click()
        self.t("invoice-title").fill(title)
        self.t("invoice-amount").fill(amount)
        self.t("save-invoice").click()
        expect(self.t("add-invoice-form")).to_have_count(0)
        ids = wait_for(lambda: set(self.invoice_ids()) - before, 10, "the new invoice's row")
        (invoice_id,) = ids
        expect(self.status(invoice_id)).to_have_attribute("data-status", "unpaid")
        return invoice_id

    def invoice_ids(self) -> list[int]:
        """The invoices shown in the table."""
        rows = self.frame.locator('[data-test^="invoice-status-"]')
        names = [rows.nth(i).get_attribute("data-test") or "" for i in range(rows.count())]
        return [int(n.rsplit("-", 1)[1]) for n in names if n.rsplit("-", 1)[1].isdigit()]

    def status(self, invoice_id: int) -> Locator:
        """The invoice's status badge (data-status holds the status)."""
        return self.t(f"invoice-status-{invoice_id}")

    def send_payment(self, invoice_id: int, terminal_id: int) -> None:
        """Send Payment: the terminal picker offers the clerk's terminal; charge it."""
        self.t(f"send-payment-{invoice_id}").click()
        expect(self.t("terminal-picker")).to_be_visible()
        option = self.t(f"terminal-option-{terminal_id}").locator("input")
        expect(option).to_be_checked()
        self.t("start-payment").click()
        expect(self.t("payment-panel")).to_be_visible()

    def panel_state(self) -> str:
        """The live panel's payment state."""
        return self.t("payment-panel").get_attribute("data-state") or ""

    def shows(self, *lines: str) -> None:
        """The panel mirrors the PIN pad's display."""
        for line in lines:
            expect(self.t("pinpad-display")).to_contain_text(line)

    def result(self, state: str) -> Locator:
        """Wait for the final result panel in that state."""
        result = self.t("result")
        expect(result).to_have_attribute("data-state", state, timeout=30_000)
        return result

    def done(self) -> None:
        """Close the result; the table is reloaded."""
        self.t("close-panel").click()
        expect(self.t("payment-panel")).to_have_count(0)
        expect(self.t("refresh")).to_be_enabled()

    def shot(self, name: str, doc: str = "") -> None:
        """Screenshot of the app's frame (the end state) under test-artifacts/screenshots/."""
        screenshot(self.iframe, self.frame, name, doc)

    def content_height(self) -> int:
        """Height of the app's content inside the frame."""
        return content_height(self.frame)

    def frame_height(self) -> int:
        """Height of the portal's iframe element."""
        return frame_height(self.iframe)

    def wait_fitted(self) -> None:
        """The portal resized the iframe to the app's content (SDK resizeWindow)."""
        wait_fitted(self.iframe, self.frame)


class PinPad:
    """The virtual PIN pad page of the Linkly simulator, worked by the cardholder."""

    def __init__(self, page: Page, pinpads: LinklySimulator, pad_id: str = "1") -> None:
        self.page = page
        # The simulator's page declares no icon, so Chromium asks for /favicon.ico and logs the
        # 404 as a console error; answer it here (the portal's pages declare an empty icon).
        page.route("**/favicon.ico", lambda route: route.fulfill(status=204))
        page.goto(f"{pinpads.base_url}/_sim/pinpad/{pad_id}", wait_until="load")
        self.lcd = page.locator("#lcd")

    def shows(self, text: str) -> None:
        """Wait until the PIN pad's display shows the text."""
        expect(self.lcd).to_contain_text(text, timeout=20_000)

    def press(self, button: str) -> None:
        """Press one button of the PIN pad."""
        self.page.locator(f'button[data-b="{button}"]').click()

    def pay(self, account: str = "crd", pin: str = "1234") -> None:
        """Present the card, choose the account, key the PIN and press OK."""
        self.shows("PRESENT CARD")
        self.press("card")
        self.shows("SELECT ACCOUNT")
        self.press(account)
        self.shows("ENTER PIN")
        for n, digit in enumerate(pin, start=1):
            self.press(digit)
            expect(self.lcd).to_contain_text("*" * n)  # one key at a time, in order
        self.press("ok")


def test_clerk_pays_an_invoice_on_the_pin_pad_and_refunds_part(
    clerk: Clerk, session: Session, shop: dict[str, Any], pinpads: LinklySimulator
) -> None:
    # The portal's stylesheet gives the iframe 420px; the SDK's resizeWindow fits it to the app.
    clerk.wait_fitted()
    assert clerk.iframe.evaluate("f => f.style.height") == f"{clerk.content_height()}px"
    empty_height = clerk.frame_height()
    invoice = clerk.add_invoice("Coffee", "15.00")
    expect(clerk.t(f"invoice-amount-{invoice}")).to_contain_text("15.00")

    clerk.send_payment(invoice, shop["terminal_id"])
    pad = PinPad(session.new_page(), pinpads)
    pad.shows("PRESENT CARD")
    clerk.shows("PRESENT CARD")
    expect(clerk.t("cancel-payment")).to_be_visible()
    clerk.wait_fitted()
    assert clerk.frame_height() > empty_height  # the frame grew with the live panel
    assert clerk.panel_state() == "in_progress"
    expect(clerk.status(invoice)).to_have_attribute("data-status", "in_progress")
    # The table and the history follow the live payment, not the answer to the first POST.
    expect(clerk.t("payment-message")).to_have_text("Ask the customer to present the card")
    expect(clerk.t("invoice-table")).to_contain_text("In progress")
    expect(clerk.t("invoice-table")).not_to_contain_text("Queued")
    expect(clerk.t("history-table")).not_to_contain_text("No payments yet.")
    clerk.shot("clerk-payment-running", doc="payment-running")

    pad.press("card")
    pad.shows("SELECT ACCOUNT")
    clerk.shows("SELECT ACCOUNT")
    pad.press("crd")
    pad.shows("ENTER PIN")
    clerk.shows("ENTER PIN")
    expect(clerk.t("payment-message")).to_contain_text("entering the PIN")
    for n, digit in enumerate("1234", start=1):
        pad.press(digit)
        expect(pad.lcd).to_contain_text("*" * n)
    pad.press("ok")

    result = clerk.result("approved")
    expect(clerk.t("result-title")).to_have_text("Payment approved")
    expect(clerk.t("account-type")).to_have_text("Credit (CRD)")
    expect(clerk.t("card-type")).to_have_text("VISA")
    expect(clerk.t("auth-code")).not_to_have_text("—")
    expect(clerk.t("host-ref")).to_have_text(re.compile(r"^\d{12}$"))  # Linkly's REF, kept
    expect(clerk.t("receipt")).to_contain_text("APPROVED")
    expect(result).to_contain_text("15.00")
    expect(clerk.status(invoice)).to_have_attribute("data-status", "paid")
    clerk.shot("clerk-payment-approved", doc="payment-approved")

    clerk.done()
    expect(clerk.status(invoice)).to_have_attribute("data-status", "paid")
    clerk.t(f"refund-{invoice}").click()
    clerk.t("refund-partial").click()
    clerk.t("refund-amount").fill("5.00")
    clerk.t("refund-continue").click()
    expect(clerk.t("refund-confirm-step")).to_contain_text("Refund A$5.00")
    clerk.t("confirm-refund").click()
    expect(clerk.t("payment-panel")).to_be_visible()
    pad.pay(account="crd", pin="4321")
    clerk.result("approved")
    expect(clerk.t("result-title")).to_have_text("Refund approved")
    expect(clerk.t("panel-amount")).to_contain_text("5.00")
    clerk.done()
    expect(clerk.status(invoice)).to_have_attribute("data-status", "partly_refunded")
    expect(clerk.status(invoice)).to_have_text("Partly refunded")
    expect(clerk.t(f"refund-{invoice}")).to_be_visible()  # 10.00 is still refundable
    clerk.shot("clerk-partly-refunded", doc="payment-refunded")

    charged = [(e["txnType"], e["amountCents"]) for e in ledger(pinpads)]
    assert charged == [("P", 1500), ("R", 500)]


def test_a_declined_card_leaves_the_invoice_unpaid(
    clerk: Clerk, session: Session, shop: dict[str, Any], pinpads: LinklySimulator
) -> None:
    # The development PIN pad answers with the amount's cents: 51 is INSUFFICIENT FUNDS.
    invoice = clerk.add_invoice("Dinner", "20.51")
    clerk.send_payment(invoice, shop["terminal_id"])
    PinPad(session.new_page(), pinpads).pay(account="sav", pin="0000")

    clerk.result("declined")
    expect(clerk.t("result-title")).to_contain_text("Payment declined")
    expect(clerk.t("result-title")).to_contain_text("INSUFFICIENT FUNDS")
    expect(clerk.status(invoice)).to_have_attribute("data-status", "unpaid")
    clerk.shot("clerk-payment-declined", doc="payment-declined")
    clerk.done()
    expect(clerk.t(f"send-payment-{invoice}")).to_be_enabled()  # the clerk may try again
    expect(clerk.t(f"refund-{invoice}")).to_have_count(0)
    assert ledger(pinpads) == []


def test_the_clerk_cancels_a_payment_waiting_for_the_card(
    clerk: Clerk, session: Session, shop: dict[str, Any], pinpads: LinklySimulator
) -> None:
    invoice = clerk.add_invoice("Tea", "4.00")
    clerk.send_payment(invoice, shop["terminal_id"])
    pad = PinPad(session.new_page(), pinpads)
    pad.shows("PRESENT CARD")
    clerk.shows("PRESENT CARD")

    clerk.t("cancel-payment").click()
    clerk.result("cancelled")
    expect(clerk.t("result-title")).to_contain_text("Payment cancelled")
    pad.shows("CANCELLED")
    expect(clerk.status(invoice)).to_have_attribute("data-status", "unpaid")
    clerk.shot("clerk-payment-cancelled")
    clerk.done()
    expect(clerk.t(f"send-payment-{invoice}")).to_be_enabled()
    assert ledger(pinpads) == []


def test_a_payment_waits_while_the_terminal_is_busy(
    clerk: Clerk,
    session: Session,
    b24: Any,
    shop: dict[str, Any],
    ctl: Callable[..., Any],
    pinpads: LinklySimulator,
) -> None:
    # Another deal, open in a second tab, takes the terminal first.
    other = ctl("POST", "deals", {"fields": {"title": "Table 7", "currencyId": "AUD"}})
    other_id = int(other.get("id") or other.get("ID"))
    first = Clerk(session, b24.urls["portal"], other_id, page=session.new_page())
    first_invoice = first.add_invoice("Table 7", "30.00")
    first.send_payment(first_invoice, shop["terminal_id"])
    pad = PinPad(session.new_page(), pinpads)
    pad.shows("PRESENT CARD")
    first.shows("PRESENT CARD")

    invoice = clerk.add_invoice("Lunch", "12.00")
    clerk.send_payment(invoice, shop["terminal_id"])
    expect(clerk.t("queue-position")).to_contain_text("this payment is next")
    expect(clerk.t("payment-panel")).to_have_attribute("data-state", "queued")
    expect(clerk.t("cancel-payment")).to_be_visible()  # a queued payment may be dropped
    clerk.shot("clerk-terminal-busy")

    pad.pay()
    first.result("approved")
    # The terminal is free: the waiting payment starts by itself.
    expect(clerk.t("queue-position")).to_have_count(0, timeout=20_000)
    pad.pay(account="chq")
    clerk.result("approved")
    expect(clerk.t("account-type")).to_have_text("Cheque (CHQ)")
    clerk.done()
    expect(clerk.status(invoice)).to_have_attribute("data-status", "paid")
    assert sorted(e["amountCents"] for e in ledger(pinpads)) == [1200, 3000]
