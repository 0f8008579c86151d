"""The transition table: its guards, its shape, and its copy in docs/architecture.md."""

from __future__ import annotations

from pathlib import Path

from bizproc_app.models import ACTIVE_STATES, FINAL_STATES, PaymentState
from bizproc_app.payments.transitions import TABLE, Event, Guard, diagram

DOC = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"


def test_every_not_charged_ending_requires_that_nothing_was_sent() -> None:
    # Endings decided by us, not by Linkly, before a request may have left.
    ours = (Event.CANCEL_QUEUED, Event.BUSY_TIMEOUT, Event.EXPIRED, Event.REFUSED)
    for event in ours:
        assert Guard.UNSENT in TABLE[event].guards, event
        assert set(TABLE[event].sources) <= {PaymentState.QUEUED, PaymentState.SENDING}


def test_linklys_results_only_apply_to_the_session_they_are_about() -> None:
    for event, rule in TABLE.items():
        if rule.target in FINAL_STATES and Guard.UNSENT not in rule.guards:
            resolved = event in (Event.RESOLVED_APPROVED, Event.RESOLVED_DECLINED)
            assert resolved or Guard.SESSION in rule.guards, event


def test_a_final_state_is_left_only_for_linklys_approval() -> None:
    for event, rule in TABLE.items():
        if any(s in FINAL_STATES for s in rule.sources):
            assert event is Event.LATE_APPROVAL and rule.target is PaymentState.APPROVED
    assert set(ACTIVE_STATES) | set(FINAL_STATES) == set(PaymentState)


def test_nothing_is_sent_past_the_deadline() -> None:
    assert Guard.IN_TIME in TABLE[Event.CLAIM].guards
    assert {Guard.UNSENT, Guard.IN_TIME} <= set(TABLE[Event.SEND].guards)


def test_the_architecture_doc_shows_the_table() -> None:
    assert diagram() in DOC.read_text(), "docs/architecture.md's diagram differs: paste diagram()"
