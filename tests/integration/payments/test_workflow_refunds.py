"""Refunds by workflow follow the settings page: on or off, a limit, the named user's rights.

The settings go through the real API with an admin's frame session; the refunds through the
Refund via POS robot, real workers and the Linkly simulator. A refused refund never reaches
Linkly and the workflow hears why; an allowed one names its workflow in the journal and on the
timeline.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bizproc_app.extensions import db
from bizproc_app.models import JournalEntry
from tests.bitrix_fixtures import frame_token
from tests.integration.payments.flows import (
    REFUND,
    comments_of,
    finished,
    invoice,
    outcome,
    refunds,
    run,
    settled,
)

CAROL = 3  # no admin, no refund grant


def _paid(ctl, shop, served_app, amount: str) -> str:
    invoice_id = invoice(ctl, shop["deal_id"], amount)
    values = outcome(ctl, shop["deal_id"], {"invoice_id": str(invoice_id), "user": "user_1"})
    assert values["status"] == "approved", values
    settled(served_app, values["payment_id"])
    return str(values["payment_id"])


def _set(served_app, shop, **form: Any) -> dict[str, Any]:
    """PUT /api/workflow-refunds as the portal's admin, from the settings frame."""
    token = frame_token(served_app, shop["control"], shop["portal_id"], 1, admin=True)
    resp = served_app.test_client().put(
        "/api/workflow-refunds", json=form, headers={"Authorization": f"Bearer {token}"}
    )
    return {"status": resp.status_code, **resp.get_json()}


def test_a_workflow_refund_naming_a_user_without_refund_rights_is_refused(
    shop, ctl, pinpads, processes, served_app
) -> None:
    payment_id = _paid(ctl, shop, served_app, "30.00")
    as_carol = {"payment_id": payment_id, "amount": "2.00", "user": f"user_{CAROL}"}
    carol = outcome(ctl, shop["deal_id"], as_carol, REFUND)
    assert carol["status"] == "error" and f"User {CAROL} has no refund rights" in carol["error"]
    as_anna = {**as_carol, "user": "user_1"}  # the admin who installed the app
    assert outcome(ctl, shop["deal_id"], as_anna, REFUND)["status"] == "approved"
    assert [e["amountCents"] for e in refunds(pinpads)] == [200]


def test_workflow_refunds_follow_the_settings(shop, ctl, pinpads, processes, served_app) -> None:
    payment_id = _paid(ctl, shop, served_app, "30.00")
    deal = shop["deal_id"]

    assert _set(served_app, shop, allowed=False, limit=None)["status"] == 200
    off = outcome(ctl, deal, {"payment_id": payment_id, "amount": "1.00"}, REFUND)
    assert off["status"] == "error" and "turned off" in off["error"], off

    bad = _set(served_app, shop, allowed=True, limit="0.001")
    assert bad["status"] == 400 and "limit" in bad["errors"], bad
    saved = _set(served_app, shop, allowed=True, limit="5.00")
    assert saved["workflow_refunds"] == {"allowed": True, "limit": "5.00"}
    over = outcome(ctl, deal, {"payment_id": payment_id, "amount": "10.00"}, REFUND)
    assert over["status"] == "error" and "at most 5.00" in over["error"], over
    whole = outcome(ctl, deal, {"payment_id": payment_id}, REFUND)  # the remainder, 30.00
    assert whole["status"] == "error" and "at most 5.00" in whole["error"], whole

    assert refunds(pinpads) == []  # nothing refused ever reached Linkly

    workflow_id = run(ctl, deal, {"payment_id": payment_id, "amount": "5.00"}, REFUND)
    done = finished(ctl, workflow_id)
    assert done["status"] == "approved", done
    refund = settled(served_app, done["payment_id"])
    assert [e["amountCents"] for e in refunds(pinpads)] == [500]
    comments = comments_of(ctl, refund.id)
    assert comments and all(f"Refund by workflow {workflow_id}" in c["COMMENT"] for c in comments)
    with served_app.app_context():
        entries = db.session.scalars(
            select(JournalEntry).where(
                JournalEntry.kind == "payment.requested", JournalEntry.subject == refund.id
            )
        ).all()
        assert [e.detail.get("workflow") for e in entries] == [workflow_id]
        changes = db.session.scalars(
            select(JournalEntry.detail).where(JournalEntry.kind == "settings.workflow_refunds")
        ).all()
        assert [(c["allowed"], c["limit_cents"]) for c in changes] == [(False, None), (True, 500)]
