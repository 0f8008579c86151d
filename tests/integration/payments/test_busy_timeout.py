"""A payment that waits too long for a busy PIN pad fails, uncharged, and says why."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers.waiting import wait_for
from tests.integration.payments.flows import (
    charges,
    finished,
    linkly,
    one_comment_each,
    rest_count,
    run,
    settled,
    transaction_posts,
)


@pytest.fixture
def app_overrides(app_overrides) -> dict[str, Any]:
    """A three-second patience for a busy terminal."""
    return {**app_overrides, "TERMINAL_BUSY_WAIT_SECONDS": 3.0}


def test_a_payment_waiting_past_the_busy_limit_fails_and_is_never_charged(
    shop, ctl, pinpads, processes, served_app
) -> None:
    # The first cardholder takes their time: the PIN pad waits for the test's presses.
    linkly(pinpads, "PATCH", "config", {"input_timeout": 60})
    linkly(pinpads, "PATCH", "pinpads/1", {"mode": "interactive"})
    ctl("DELETE", "requests")
    first = run(ctl, shop["deal_id"], {"amount": "30.00", "user": "user_1"})
    wait_for(
        lambda: "PRESENT CARD" in str(linkly(pinpads, "GET", "pinpads/1/state")),
        30,
        "the first payment to hold the PIN pad",
    )
    second = run(ctl, shop["deal_id"], {"amount": "31.00", "user": "user_1"})
    waited = finished(ctl, second, 30)
    assert waited["status"] == "failed", waited
    assert "terminal busy" in waited["error"], waited
    late = settled(served_app, waited["payment_id"])
    assert late.state == "failed" and late.sent_at is None and late.txn_ref is None

    for button in ("card", "crd", "1", "2", "3", "4", "ok"):
        assert linkly(pinpads, "POST", "pinpads/1/press", {"button": button})["accepted"], button
    served = finished(ctl, first, 30)
    assert served["status"] == "approved", served
    settled(served_app, served["payment_id"])
    assert [e["amountCents"] for e in charges(pinpads)] == [3000]
    assert len(transaction_posts(pinpads)) == 1
    one_comment_each(ctl, late.id)
    assert rest_count(ctl, "bizproc.event.send") == 2  # one per workflow
