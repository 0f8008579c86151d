"""A payment that may have reached the PIN pad is never ended as "not charged" (issue 12, 1-2).

Each race stops one actor (the sweep, a clerk's cancel) after it read the payment and before it
writes, lets a worker take the PIN pad and send, then lets the first actor write.
"""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from bizproc_app.extensions import db
from bizproc_app.models import Payment, Terminal
from bizproc_app.payments import states, sweep
from bizproc_app.payments.sweep import Sweep
from bizproc_app.wiring.services import payments
from tests.helpers.waiting import wait_for
from tests.integration.payments.conftest import payment_of
from tests.integration.payments.flows import charges, transaction_posts
from tests.integration.payments.races import (
    Recorded,
    ago,
    in_thread,
    pause_before_first_payment_write,
    queued_purchase,
)


def _approved(app: Any, payment_id: str) -> Payment:
    return wait_for(
        lambda: (p := payment_of(app, id=payment_id)) is not None and p.state == "approved" and p,
        20,
        f"payment {payment_id} to be approved",
    )


def _linkly_decided(app: Any, pinpads: Any, payment_id: str) -> Payment:
    """Wait for the final state; it must be Linkly's result, charged exactly when approved."""
    ended = wait_for(
        lambda: (p := payment_of(app, id=payment_id)) is not None and p.is_final and p,
        20,
        f"payment {payment_id} to end",
    )
    assert ended.result is not None, (ended.state, ended.error)  # Linkly said so, not we
    charged = [c["txnRef"] for c in charges(pinpads) if c["txnRef"] == ended.txn_ref]
    assert len(charged) == (1 if ended.state == "approved" else 0), (ended.state, charged)
    return ended


def _worker_sends(app: Any, terminal_id: int) -> Any:
    return lambda: payments().pipeline().send_next(terminal_id)


def test_the_busy_timeout_loses_to_a_worker_that_took_the_pin_pad(
    shop, served_app, pinpads
) -> None:
    cfg = served_app.config["APP_CONFIG"]
    with served_app.app_context():
        waited = cfg.TERMINAL_BUSY_WAIT_SECONDS + 5
        payment_id = queued_purchase(served_app, shop, created_at=ago(waited))
        with pause_before_first_payment_write(
            served_app, db.session, _worker_sends(served_app, shop["terminal_id"])
        ) as seen:
            Sweep(cfg, db.session, Recorded()).run()
        assert seen["other"] == payment_id  # the worker sent it while the sweep was deciding
    paid = _approved(served_app, payment_id)
    assert paid.error == ""
    assert [c["txnRef"] for c in charges(pinpads)] == [paid.txn_ref]


def test_the_deadline_never_fails_a_send_that_left(shop, served_app, pinpads, monkeypatch) -> None:
    cfg = served_app.config["APP_CONFIG"]
    with served_app.app_context():
        payment_id = queued_purchase(served_app, shop)
        runner = payments().pipeline()
        # A worker claimed it and is about to send; its deadline is still ahead.
        claimed = db.session.get(Payment, payment_id)
        runner.send = lambda payment: None
        assert runner.send_next(shop["terminal_id"]) == payment_id
        # The sweep runs on a clock past the deadline (another machine, or simply later) and
        # reads the payment as sending with nothing sent; the worker sends meanwhile.
        skew = states.aware(claimed.deadline_at) - states.now() + timedelta(seconds=1)
        late = SimpleNamespace(**{n: getattr(states, n) for n in dir(states) if n[0] != "_"})
        late.now = lambda: states.now() + skew
        monkeypatch.setattr(sweep, "states", late)
        with pause_before_first_payment_write(
            served_app,
            db.session,
            lambda: payments().pipeline().send(db.session.get(Payment, payment_id)),
        ):
            Sweep(cfg, db.session, Recorded()).run()
    paid = _approved(served_app, payment_id)
    assert [c["txnRef"] for c in charges(pinpads)] == [paid.txn_ref]


def test_a_clerks_cancel_loses_to_a_worker_that_took_the_payment(shop, served_app, pinpads) -> None:
    with served_app.app_context():
        payment_id = queued_purchase(served_app, shop)
        stale = db.session.get(Payment, payment_id)  # the clerk's screen: still queued
        assert stale.state == "queued"
        with pause_before_first_payment_write(
            served_app, db.session, _worker_sends(served_app, shop["terminal_id"])
        ):
            payments().pipeline().cancel(
                stale
            )  # the worker won: at most Cancel is pressed on the pad
    ended = _linkly_decided(served_app, pinpads, payment_id)
    assert ended.state in ("approved", "cancelled"), ended.state
    with served_app.app_context():
        assert db.session.get(Terminal, shop["terminal_id"]).active_payment_id is None


def test_a_queued_payment_past_its_deadline_is_never_sent(shop, served_app, pinpads) -> None:
    with served_app.app_context():
        expired = queued_purchase(served_app, shop, deadline_at=ago(1))
        fresh = queued_purchase(served_app, shop, "13.00")
        assert in_thread(served_app, _worker_sends(served_app, shop["terminal_id"])) == fresh
    ended = payment_of(served_app, id=expired)
    assert ended.state == "failed" and "deadline" in ended.error and ended.sent_at is None
    _approved(served_app, fresh)
    assert [c["amountCents"] for c in charges(pinpads)] == [1300]
    assert len(transaction_posts(pinpads)) == 1


def test_the_sweep_ends_queued_payments_past_their_deadline(shop, served_app, pinpads) -> None:
    cfg = served_app.config["APP_CONFIG"]
    with served_app.app_context():
        expired = queued_purchase(served_app, shop, deadline_at=ago(1))
        enqueued = Recorded()
        done = Sweep(cfg, db.session, enqueued).run()
        assert done["deadline"] == 1, done
        assert ("reports", shop["portal_id"]) in enqueued.log
    ended = payment_of(served_app, id=expired)
    assert ended.state == "failed" and "not charged" in ended.error
    assert ended.report_state == "pending"
    assert transaction_posts(pinpads) == []


def test_two_runners_of_one_send_post_it_once(shop, served_app, pinpads) -> None:
    # The sweep resumes a send it thinks died (recover job) while the first runner is alive.
    with served_app.app_context():
        payment_id = queued_purchase(served_app, shop)
        runner = payments().pipeline()
        runner.send = lambda payment: None
        assert runner.send_next(shop["terminal_id"]) == payment_id  # claimed, not yet sent
        with pause_before_first_payment_write(
            served_app, db.session, lambda: payments().recover(payment_id)
        ):
            payments().recover(payment_id)
    _linkly_decided(served_app, pinpads, payment_id)
    assert len(transaction_posts(pinpads)) == 1
