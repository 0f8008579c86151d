"""Bitrix24 is down or the token expired while the outcome is reported: it lands once."""

from __future__ import annotations

from tests.helpers.waiting import wait_for
from tests.integration.payments.conftest import payment_of
from tests.integration.payments.flows import (
    charges,
    events_logged,
    finished,
    invoice,
    invoice_paid,
    linkly,
    one_comment_each,
    quiet,
    rest_count,
    run,
    settled,
)


def test_the_report_outlasts_a_503_outage_and_an_expired_token_without_duplicates(
    shop, ctl, pinpads, processes, served_app
) -> None:
    linkly(pinpads, "PATCH", "pinpads/1", {"cardholder_delay": 1.5})
    invoice_id = invoice(ctl, shop["deal_id"], "60.00")
    ctl("DELETE", "requests")
    wf = run(ctl, shop["deal_id"], {"invoice_id": str(invoice_id), "user": "user_1"})
    sent = wait_for(
        lambda: (p := payment_of(served_app, terminal_id=shop["terminal_id"])) and p.sent_at and p,
        15,
        "the payment to leave for the PIN pad",
    )
    # The CRM was read; now the portal goes down for the report, and every token expires.
    ctl("POST", "tokens/expire")
    ctl("POST", "faults", {"down_calls": 2})
    values = finished(ctl, wf, 30)
    assert values["status"] == "approved", values
    payment = settled(served_app, sent.id, 30)
    assert payment.report_done.get("event") is True
    quiet(1.0)
    counts = ctl("GET", "requests")
    assert counts["requests"]["batch"] >= 4, counts  # the read, two 503s, the report
    assert rest_count(ctl, "bizproc.event.send") == 1 and events_logged(ctl, wf) == 1
    assert rest_count(ctl, "crm.item.payment.add") == 1
    assert len(one_comment_each(ctl, payment.id)) == 2
    assert invoice_paid(ctl, invoice_id)
    assert len(charges(pinpads)) == 1
