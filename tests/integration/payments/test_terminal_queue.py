"""One PIN pad, several payments: they wait their turn, in order, each charged once."""

from __future__ import annotations

from itertools import pairwise

from tests.integration.payments.conftest import payment_of
from tests.integration.payments.flows import (
    charges,
    finished,
    one_comment_each,
    run,
    settled,
    transaction_posts,
)


def test_three_calls_on_one_terminal_run_one_after_another_in_order(
    shop, ctl, pinpads, processes, served_app
) -> None:
    amounts = ("11.00", "12.00", "13.00")
    flows = [run(ctl, shop["deal_id"], {"amount": a, "user": "user_1"}) for a in amounts]
    outcomes = [finished(ctl, wf, 40) for wf in flows]
    assert [v["status"] for v in outcomes] == ["approved"] * 3, outcomes
    payments = [settled(served_app, v["payment_id"]) for v in outcomes]
    by_creation = sorted(payments, key=lambda p: (p.created_at, p.id))
    # First come, first served: Linkly saw them in the order they were created ...
    ledger = charges(pinpads)
    assert [e["txnRef"] for e in ledger] == [p.txn_ref for p in by_creation]
    assert sorted(e["amountCents"] for e in ledger) == [1100, 1200, 1300]
    assert len(transaction_posts(pinpads)) == 3  # no BY "busy" answer: none overlapped
    # ... and each waited for the one before it to end.
    for before, after in pairwise(by_creation):
        assert before.finished_at <= after.sent_at, (before.finished_at, after.sent_at)
    for payment in payments:
        one_comment_each(ctl, payment.id)
    terminal_free = payment_of(served_app, terminal_id=shop["terminal_id"])
    assert terminal_free is not None and terminal_free.is_final
