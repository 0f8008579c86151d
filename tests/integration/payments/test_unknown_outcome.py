"""Linkly cannot say what happened before the deadline: tell people, keep asking, never resend."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers.waiting import wait_for
from tests.integration.payments.conftest import payment_of
from tests.integration.payments.flows import (
    charges,
    fault,
    finished,
    invoice,
    invoice_paid,
    linkly,
    one_comment_each,
    rest_count,
    run,
    settled,
    transaction_posts,
)


@pytest.fixture
def app_overrides(app_overrides) -> dict[str, Any]:
    """A short deadline before the workflow hears "unknown" (long enough to send first)."""
    return {**app_overrides, "PAYMENT_DEADLINE_SECONDS": 6.0}


def test_an_unknown_outcome_is_reported_then_resolved_late_without_a_second_event(
    shop, ctl, pinpads, processes, served_app
) -> None:
    fault(pinpads, "events_lost", scope="run", params={"types": ["transaction"]})
    blind = fault(pinpads, "http_error", scope="run", params={"status": 503, "on": "get"})
    invoice_id = invoice(ctl, shop["deal_id"], "70.00")
    ctl("DELETE", "requests")
    wf = run(ctl, shop["deal_id"], {"invoice_id": str(invoice_id), "user": "user_1"})
    values = finished(ctl, wf, 30)
    assert values["status"] == "unknown", values
    assert values["approved"] in (False, "N", 0, "0")
    payment = wait_for(
        lambda: (p := payment_of(served_app, id=values["payment_id"])).reported_status and p,
        10,
        "the report to be recorded",
    )
    assert payment.state == "unknown" and payment.reported_status == "unknown"
    wait_for(lambda: rest_count(ctl, "im.notify") == 1, 10, "people to hear it is unknown")
    assert "not known yet" in ctl("GET", "notifications")[-1]["message"]
    assert not invoice_paid(ctl, invoice_id)
    assert len(charges(pinpads)) == 1  # Linkly did charge; we just cannot see it yet

    linkly(pinpads, "DELETE", f"faults/{blind}")
    payment = settled(served_app, payment.id, 30)
    assert payment.state == "approved"
    wait_for(lambda: invoice_paid(ctl, invoice_id), 10, "the invoice to be paid")
    assert rest_count(ctl, "im.notify") == 2
    assert "now known: approved" in ctl("GET", "notifications")[-1]["message"]
    assert rest_count(ctl, "bizproc.event.send") == 1
    assert len(one_comment_each(ctl, payment.id)) == 2
    assert len(charges(pinpads)) == 1 and len(transaction_posts(pinpads)) == 1
