"""A workflow that ended while its payment ran: the money is booked, people are told, no retry.

The PIN pad waits for the test's presses; meanwhile the workflow is terminated in the portal.
Under both readings of what Bitrix24 answers `bizproc.event.send` for such a token (the method's
page: ACCESS_DENIED; the runtime: WorkflowNotFound) the report records "workflow gone", notifies
the people once, and is not retried.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bizproc_app.extensions import db
from bizproc_app.models import JournalEntry
from tests.helpers.waiting import wait_for
from tests.integration.payments.flows import charges, linkly, run, settled
from tests.payment_fixtures import payment_of


@pytest.mark.parametrize("answer", ["access_denied", "workflow_not_found"])
def test_a_payment_whose_workflow_ended_is_booked_and_people_are_told(
    shop, ctl, pinpads, processes, served_app, answer
) -> None:
    ctl("POST", "config", {"ended_workflow": answer})
    linkly(pinpads, "PATCH", "config", {"input_timeout": 60})
    linkly(pinpads, "PATCH", "pinpads/1", {"mode": "interactive"})
    workflow_id = run(ctl, shop["deal_id"], {"amount": "30.00", "user": "user_1"})
    wait_for(
        lambda: "PRESENT CARD" in str(linkly(pinpads, "GET", "pinpads/1/state")),
        30,
        "the payment to hold the PIN pad",
    )
    ctl("POST", f"workflows/{workflow_id}/terminate")
    for button in ("card", "crd", "1", "2", "3", "4", "ok"):
        assert linkly(pinpads, "POST", "pinpads/1/press", {"button": button})["accepted"], button
    payment = wait_for(lambda: payment_of(served_app, state="approved"), 30, "the approval")
    done = settled(served_app, payment.id)
    assert done.report_done["event"] == "workflow_gone"
    assert [e["amountCents"] for e in charges(pinpads)] == [3000]
    told = [n for n in ctl("GET", "notifications") if f"pos-{payment.id}" in n["tag"]]
    assert told and {n["user_id"] for n in told} == {1}, told  # the requester is the installer
    with served_app.app_context():
        writes = db.session.scalars(
            select(JournalEntry.detail).where(
                JournalEntry.kind == "bitrix.write", JournalEntry.subject == payment.id
            )
        ).all()
    assert any("event" in w["landed"] for w in writes), writes
    assert all(w.get("status") != "failed" for w in writes)
