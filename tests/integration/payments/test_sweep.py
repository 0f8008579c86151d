"""Without worker processes: the sweep with a send that died, and two runners racing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bizproc_app.extensions import db
from bizproc_app.models import JournalEntry, Payment, Terminal
from bizproc_app.payments.states import now
from bizproc_app.payments.sweep import Sweep
from bizproc_app.wiring.services import payments
from tests.integration.payments.races import Recorded


def _claimed(shop, *, deadline_in: float, idle_for: float) -> Payment:
    """A payment a dead worker left in `sending`: ids minted, terminal held, nothing sent."""
    payment = Payment(
        portal_id=shop["portal_id"],
        terminal_id=shop["terminal_id"],
        kind="purchase",
        amount_cents=1000,
        currency="AUD",
        state="sending",
        source="robot",
        session_id="0" * 31 + "1",
        txn_ref="T1",
        deadline_at=now() + timedelta(seconds=deadline_in),
        context={},
    )
    db.session.add(payment)
    db.session.flush()
    db.session.get(Terminal, shop["terminal_id"]).active_payment_id = payment.id
    db.session.commit()
    payment.updated_at = now() - timedelta(seconds=idle_for)
    db.session.commit()
    return payment


@pytest.mark.parametrize(
    ("deadline_in", "idle_for", "expected"),
    [
        (60.0, 1.0, "sending"),  # maybe still alive: leave it
        (60.0, 120.0, "sending"),  # dead: resume its send (recover job)
        (-1.0, 120.0, "failed"),  # dead past the deadline: end it, not charged, free the PIN pad
    ],
)
def test_a_send_that_died_before_its_post(
    shop, served_app, deadline_in: float, idle_for: float, expected: str
) -> None:
    with served_app.app_context():
        payment = _claimed(shop, deadline_in=deadline_in, idle_for=idle_for)
        enqueued = Recorded()
        Sweep(served_app.config["APP_CONFIG"], db.session, enqueued).run()
        db.session.refresh(payment)
        assert payment.state == expected
        terminal = db.session.get(Terminal, shop["terminal_id"])
        if expected == "failed":
            assert "not charged" in payment.error and payment.report_state == "pending"
            assert terminal.active_payment_id is None
            assert ("reports", shop["portal_id"]) in enqueued.log
            assert ("send_next", shop["terminal_id"]) in enqueued.log
            kinds = db.session.scalars(
                select(JournalEntry.kind).where(JournalEntry.subject == payment.id)
            ).all()
            assert "payment.final" in kinds
        else:
            assert terminal.active_payment_id == payment.id
            resumed = ("recover", payment.id) in enqueued.log
            assert resumed == (idle_for > 60)


def test_a_runner_that_lost_the_race_for_a_payment_leaves_the_pin_pad_claimed(
    shop, served_app, monkeypatch
) -> None:
    with served_app.app_context():
        taken = _claimed(shop, deadline_in=60.0, idle_for=0.0)  # runner A: sending, PIN pad held
        late = payments().pipeline()
        # Runner B read the same payment while it was still queued, and acts on it now.
        monkeypatch.setattr(late.session, "scalar", lambda *args, **kwargs: taken)
        assert late.send_next(shop["terminal_id"]) is None
        monkeypatch.undo()
        db.session.expire_all()
        assert db.session.get(Terminal, shop["terminal_id"]).active_payment_id == taken.id
        assert db.session.get(Payment, taken.id).state == "sending"
