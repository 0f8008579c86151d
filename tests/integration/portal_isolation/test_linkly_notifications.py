"""Portal isolation for Linkly's notifications: each payment has its own secret, and an event
of A's that names B's session changes nothing of B."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bizproc_app.extensions import db
from bizproc_app.models import JournalEntry, Payment
from tests.fuzz.conftest import NOTIFY_SECRET
from tests.helpers.jobs import queued_jobs
from tests.integration.portal_isolation.helpers import (
    B_NOTIFY_SECRET,
    B_SESSION,
    refused,
    rows_of,
    snapshot,
    transaction_event,
)


@pytest.mark.parametrize("kind", ["transaction", "display", "receipt"])
@pytest.mark.parametrize("direction", ["a_secret_on_b_payment", "b_secret_on_a_payment"])
def test_notification_with_the_other_payment_secret_is_refused(
    fuzz_app, portals, redis_client, kind, direction
) -> None:
    a, b = portals["a"], portals["b"]
    if direction == "a_secret_on_b_payment":
        pid, session, secret, ref = b["running"], B_SESSION, NOTIFY_SECRET, "BREF000000000001"
    else:
        pid, session, secret, ref = a["payment_id"], "0" * 32, B_NOTIFY_SECRET, "FUZZREF000000001"
    body = transaction_event(session, ref)
    if kind != "transaction":
        body = {"SessionId": session, "ResponseType": kind, "Response": {"DisplayText": ["X"]}}
    before = snapshot(fuzz_app, b["portal_id"])
    with fuzz_app.app_context():
        a_before = rows_of(Payment, Payment.id == a["payment_id"])
    resp = fuzz_app.test_client().post(
        f"/linkly/notify/{pid}/{session}/{kind}",
        json=body,
        headers={"Authorization": f"Bearer {secret}"},
    )
    refused(resp, 401, "not authorized")
    assert snapshot(fuzz_app, b["portal_id"]) == before
    with fuzz_app.app_context():
        assert rows_of(Payment, Payment.id == a["payment_id"]) == a_before
    assert queued_jobs(redis_client) == 0


def test_a_authorized_event_naming_b_session_changes_nothing_of_b(
    fuzz_app, portals, redis_client
) -> None:
    # A's own URL and secret, but the body claims B's session and TxnRef: the event belongs
    # to A's payment, whose session it does not match, so it is journaled (on A) and ignored.
    a, b = portals["a"], portals["b"]
    before = snapshot(fuzz_app, b["portal_id"])
    resp = fuzz_app.test_client().post(
        f"/linkly/notify/{a['payment_id']}/{B_SESSION}/transaction",
        json=transaction_event(B_SESSION, "BREF000000000001"),
        headers={"Authorization": f"Bearer {NOTIFY_SECRET}"},
    )
    assert resp.status_code == 200 and resp.get_json() == {"status": "ok"}
    after = snapshot(fuzz_app, b["portal_id"])
    assert after["b"] == before["b"]
    assert after["counts"] == {**before["counts"], "journal": before["counts"]["journal"] + 2}
    with fuzz_app.app_context():
        assert db.session.get(Payment, a["payment_id"]).state == "in_progress"
        kinds = db.session.scalars(
            select(JournalEntry.kind).where(JournalEntry.subject == a["payment_id"])
        ).all()
    assert "linkly.event_ignored" in kinds
    assert queued_jobs(redis_client) == 0
