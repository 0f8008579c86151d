"""The way out of "unknown" (issue 12, 6): given up once, people told, an admin decides."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from bizproc_app.extensions import db
from bizproc_app.models import JournalEntry, Terminal
from tests.helpers.waiting import wait_for
from tests.integration.payments.conftest import payment_of
from tests.integration.payments.flows import (
    charges,
    fault,
    finished,
    invoice,
    invoice_paid,
    linkly,
    quiet,
    run,
)


@pytest.fixture
def app_overrides(app_overrides) -> dict[str, Any]:
    """Unknown after 4 s, given up 3 s after the POST."""
    return {
        **app_overrides,
        "PAYMENT_DEADLINE_SECONDS": 4.0,
        "PAYMENT_UNKNOWN_HORIZON_SECONDS": 3.0,
    }


def _count(app: Any, kind: str, subject: str) -> int:
    with app.app_context():
        stmt = select(func.count()).where(
            JournalEntry.kind == kind, JournalEntry.subject == subject
        )
        return int(db.session.scalar(stmt) or 0)


def test_a_given_up_payment_is_decided_by_an_admin_and_frees_its_pin_pad(
    shop, ctl, pinpads, processes, served_app
) -> None:
    # Linkly charges the card but no answer, event or recovery GET ever gets through.
    fault(pinpads, "drop_response", ops=["transaction"])
    fault(pinpads, "events_lost")
    fault(pinpads, "http_error", scope="run", params={"status": 503, "on": "get"})
    invoice_id = invoice(ctl, shop["deal_id"], "31.00")
    wf = run(ctl, shop["deal_id"], {"invoice_id": str(invoice_id), "user": "user_1"})
    told = finished(ctl, wf)
    assert told["status"] == "unknown", told

    def given_up():
        p = payment_of(served_app, id=told["payment_id"])
        notified = "attention" in (p.report_done or {}).get("notify", {})
        return p if p.attention_at is not None and notified else None

    payment = wait_for(given_up, 30, "the sweep to give the payment up and tell people")
    assert payment.state == "unknown" and payment.next_check_at is None
    notes = [n for n in ctl("GET", "notifications") if payment.id in n["message"]]
    assert any("Needs attention" in n["message"] for n in notes), notes
    quiet(1.5)  # several sweeps: the give-up is journaled once, and Linkly is asked no more
    assert _count(served_app, "payment.gave_up", payment.id) == 1
    with served_app.app_context():
        assert db.session.get(Terminal, shop["terminal_id"]).active_payment_id == payment.id

    runner = served_app.test_cli_runner()
    refused = runner.invoke(args=["pos", "resolve", "--payment", payment.id, "--as", "approved",
                                  "--reason", " "])  # fmt: skip
    assert refused.exit_code != 0 and "Say why" in refused.output, refused.output
    decided = runner.invoke(args=["pos", "resolve", "--payment", payment.id, "--as", "approved",
                                  "--reason", "merchant receipt 0042 shows APPROVED"])  # fmt: skip
    assert decided.exit_code == 0, decided.output
    assert "recorded as approved" in decided.output
    again = runner.invoke(args=["pos", "resolve", "--payment", payment.id, "--as", "declined",
                                "--reason", "second thoughts"])  # fmt: skip
    assert again.exit_code != 0 and "approved now" in again.output, again.output

    def reported():
        p = payment_of(served_app, id=payment.id)
        return p if p.state == "approved" and p.report_state == "done" else None

    done = wait_for(reported, 20, "the decision to be reported")
    assert done.context["resolution"]["reason"] == "merchant receipt 0042 shows APPROVED"
    assert done.context["resolution"]["by"].startswith("cli:")
    assert _count(served_app, "payment.resolved", payment.id) == 1
    assert invoice_paid(ctl, invoice_id)
    notes = [n for n in ctl("GET", "notifications") if payment.id in n["message"]]
    assert any("decided it was approved" in n["message"] for n in notes), notes
    # The PIN pad serves the next payment again.
    linkly(pinpads, "DELETE", "faults")
    nxt = finished(ctl, run(ctl, shop["deal_id"], {"amount": "5.00", "user": "user_1"}))
    assert nxt["status"] == "approved", nxt
    assert len(charges(pinpads)) == 2  # the decided one (charged, unseen) and the next one
