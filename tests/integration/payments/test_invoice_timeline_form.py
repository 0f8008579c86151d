"""Timeline comments on smart invoices under either ENTITY_TYPE form a portal may take.

The sources disagree (`smart_invoice` from the CRM type docs, `dynamic_31` from the comment
docs); the simulator takes exactly one. The report tries the portal's known form, falls back
to the other once, remembers the one taken (journaled) and starts with it next time.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bizproc_app.extensions import db
from bizproc_app.models import JournalEntry, Portal
from tests.integration.payments.flows import invoice, outcome, settled


def _invoice_comments(ctl, payment_id: str) -> list[str]:
    return [
        c["ENTITY_TYPE"]
        for c in ctl("GET", "crm")["comments"]
        if payment_id in c["COMMENT"] and c["ENTITY_TYPE"] != "deal"
    ]


@pytest.mark.parametrize("taken", ["smart_invoice", "dynamic_31"])
def test_the_invoice_comment_lands_in_the_form_the_portal_takes(
    shop, ctl, pinpads, processes, served_app, taken
) -> None:
    ctl("POST", "config", {"invoice_timeline_type": taken})
    paid = []
    for amount in ("11.00", "12.00"):
        invoice_id = invoice(ctl, shop["deal_id"], amount)
        values = outcome(ctl, shop["deal_id"], {"invoice_id": str(invoice_id), "user": "user_1"})
        assert values["status"] == "approved", values
        paid.append(settled(served_app, values["payment_id"]))
    for payment in paid:
        assert _invoice_comments(ctl, payment.id) == [taken]  # one comment, never lost
    first, second = (p.report_done for p in paid)
    assert first.get("invoice_forms_refused", []) == ([] if taken == "smart_invoice" else
                                                      ["smart_invoice"])  # fmt: skip
    assert "invoice_forms_refused" not in second  # the portal's form is known by then
    with served_app.app_context():
        assert db.session.scalar(select(Portal.invoice_timeline_type)) == taken
        forms = db.session.scalars(
            select(JournalEntry.detail).where(JournalEntry.kind == "bitrix.timeline_form")
        ).all()
        assert [f["form"] for f in forms] == [taken]
