"""The portal's operating limits (issue 14, item 5), against the simulator's strict default.

A method over its operating time is blocked alone until its reset time (429 inside the batch,
without `time`: the reset comes from that method's earlier successes); support's OVERLOAD_LIMIT
stops every call until it is lifted, is not hammered, and the admins are told.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from bizproc_app.extensions import db
from bizproc_app.models import JournalEntry
from tests.bitrix_fixtures import frame_token
from tests.helpers.waiting import wait_for
from tests.integration.payments.conftest import payment_of
from tests.integration.payments.flows import (
    comments_of,
    finished,
    invoice,
    invoice_paid,
    linkly,
    outcome,
    quiet,
    rest_count,
    run,
    settled,
)

COMMENT = "crm.timeline.comment.add"


def _pay(ctl: Any, shop: dict[str, Any]) -> Any:
    invoice_id = invoice(ctl, shop["deal_id"], "10.00")
    values = outcome(ctl, shop["deal_id"], {"invoice_id": str(invoice_id), "user": "user_1"})
    assert values["status"] == "approved", values
    return invoice_id, values["payment_id"]


def test_a_method_over_its_operating_time_waits_alone_for_its_reset(
    shop, ctl, pinpads, processes, served_app
) -> None:
    settled(served_app, _pay(ctl, shop)[1])  # the app sees the comments' reset time
    ctl("POST", "operating", {"method": COMMENT, "seconds": 1000})
    ctl("DELETE", "requests")

    invoice_id, payment_id = _pay(ctl, shop)  # the workflow still hears at once
    payment = wait_for(
        lambda: (p := payment_of(served_app, id=payment_id)).report_attempts and p,
        20,
        "the report to meet the blocked method",
    )
    assert invoice_paid(ctl, invoice_id) and comments_of(ctl, payment_id) == []
    assert payment.report_done["event"] is True and payment.report_state == "pending"
    # Not before the method's reset (minutes away), not at the next back-off step of seconds.
    wait = payment.report_next_at.replace(tzinfo=UTC) - datetime.now(UTC)
    assert wait.total_seconds() > 120, wait
    asked = rest_count(ctl, COMMENT)
    assert asked == 2  # once per comment, in the batch that met the block
    quiet(4)  # the sweep and the drains run meanwhile: the blocked method is not asked again
    assert rest_count(ctl, COMMENT) == asked


def test_overload_limit_stops_reports_tells_the_admins_and_recovers_when_lifted(
    shop, ctl, pinpads, processes, served_app
) -> None:
    token = frame_token(served_app, shop["control"], shop["portal_id"], 1, admin=True)
    linkly(pinpads, "PATCH", "pinpads/1", {"cardholder_delay": 1.5})
    invoice_id = invoice(ctl, shop["deal_id"], "10.00")
    wf = run(ctl, shop["deal_id"], {"invoice_id": str(invoice_id), "user": "user_1"})
    sent = wait_for(
        lambda: (p := payment_of(served_app, terminal_id=shop["terminal_id"])) and p.sent_at and p,
        15,
        "the payment to leave for the PIN pad",
    )
    ctl("POST", "faults", {"overload_limit": True})  # support blocks the app mid-payment

    def journaled() -> list[Any]:
        with served_app.app_context():
            kinds = select(JournalEntry.kind).where(JournalEntry.kind == "bitrix.overload_limit")
            return list(db.session.scalars(kinds))

    wait_for(journaled, 30, "the block to be journaled")
    pending = payment_of(served_app, id=sent.id)
    assert pending.state == "approved" and pending.report_state == "pending"
    batches = ctl("GET", "requests")["requests"].get("batch", 0)
    quiet(3)
    assert ctl("GET", "requests")["requests"].get("batch", 0) <= batches + 1  # not hammered

    settings = served_app.test_client().get(
        "/api/settings", headers={"Authorization": f"Bearer {token}"}
    )
    assert settings.status_code == 200, settings.get_json()
    told = settings.get_json()["bitrix_overload"]
    assert told["method"] == "batch" and "OVERLOAD_LIMIT" in told["advice"]

    ctl("POST", "faults", {"overload_limit": False})  # lifted: the report lands, once
    values = finished(ctl, wf, 90)
    assert values["status"] == "approved", values
    settled(served_app, sent.id, 90)
    assert invoice_paid(ctl, invoice_id) and len(comments_of(ctl, sent.id)) == 2
    after = served_app.test_client().get(
        "/api/settings", headers={"Authorization": f"Bearer {token}"}
    )
    assert after.get_json()["bitrix_overload"] is None
