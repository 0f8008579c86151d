"""Outcome unknown: a dropped answer or an HTTP error on the POST or the recovery GET is resolved
by the recovery GET, never by a second POST; a session Linkly never saw is NOT_FOUND."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from bizproc_app.linkly import (
    Outcome,
    OutcomeUnknown,
    RecoveryState,
    new_session_id,
    new_txn_ref,
    to_cents,
)
from tests.helpers.pos import LinklyClientPos
from tests.integration.linkly_roundtrip.helpers import PadOneControl

# --------------------------------------------------------------------------------------------
# 6. Dropped response: charged, but the client never hears it
# --------------------------------------------------------------------------------------------


def test_dropped_response_is_outcome_unknown_and_recovered_without_a_second_post(
    control: PadOneControl, pos: LinklyClientPos
) -> None:
    control.arm("drop_response")
    session_id, txn_ref = new_session_id(), new_txn_ref()
    with pytest.raises(OutcomeUnknown) as caught:
        pos.client.purchase(
            credentials=pos.creds,
            session_id=session_id,
            txn_ref=txn_ref,
            amount_cents=to_cents(Decimal("10.00")),
            notification_uri=pos.notify_uri,
            notification_authorization="Bearer dropped",
            operator_id=7,
            operator_name="Test clerk",
        )
    assert caught.value.session_id == session_id
    assert caught.value.status is None  # no HTTP answer at all

    result = pos.wait_final(session_id)
    assert result.outcome is Outcome.APPROVED and result.txn_ref == txn_ref and result.rfn

    # One POST, never repeated: neither by the client nor as a new session on the simulator.
    assert pos.http.made("POST", f"/v1/sessions/{session_id}/transaction") == [None]
    assert pos.http.count_suffix("POST", "/transaction") == 1
    assert [s["sessionId"] for s in control.sessions()] == [session_id]
    charges = control.ledger(txn_ref)
    assert len(charges) == 1 and charges[0]["rfn"] == result.rfn
    assert len(control.ledger()) == 1


# --------------------------------------------------------------------------------------------
# 7. HTTP errors on the POST, processed or not
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("processed", [True, False], ids=["processed", "not-processed"])
@pytest.mark.parametrize("status", [408, 500, 502, 503])
def test_http_error_on_the_post_is_outcome_unknown_until_recovery(
    status: int, processed: bool, control: PadOneControl, pos: LinklyClientPos
) -> None:
    control.arm("http_error", params={"status": status, "on": "post", "processed": processed})
    session_id, txn_ref = new_session_id(), new_txn_ref()
    with pytest.raises(OutcomeUnknown) as caught:
        pos.client.purchase(
            credentials=pos.creds,
            session_id=session_id,
            txn_ref=txn_ref,
            amount_cents=1000,
            notification_uri=pos.notify_uri,
            notification_authorization="Bearer http-error",
            operator_id=7,
            operator_name="Test clerk",
        )
    assert caught.value.status == status
    assert caught.value.reason == f"http_{status}"
    assert caught.value.session_id == session_id
    assert pos.http.made("POST", f"/v1/sessions/{session_id}/transaction") == [status]

    if processed:
        result = pos.wait_final(session_id)
        assert result.outcome is Outcome.APPROVED and result.txn_ref == txn_ref
        assert len(control.ledger(txn_ref)) == 1
    else:
        answer = pos.client.transaction_status(credentials=pos.creds, session_id=session_id)
        assert answer.state is RecoveryState.NOT_FOUND and answer.result is None
        assert control.ledger() == []
        assert control.sessions() == []
    assert pos.http.count_suffix("POST", "/transaction") == 1


@pytest.mark.parametrize("status", [408, 503])
def test_http_error_on_the_recovery_get_is_outcome_unknown_then_resolves(
    status: int, control: PadOneControl, pos: LinklyClientPos
) -> None:
    p = pos.purchase(Decimal("10.00"))
    assert p.submit is not None and p.submit.accepted
    control.arm("http_error", params={"status": status, "on": "get"})
    with pytest.raises(OutcomeUnknown) as caught:
        pos.client.transaction_status(credentials=pos.creds, session_id=p.session_id)
    assert caught.value.status == status and caught.value.reason == f"http_{status}"
    result = pos.wait_final(p.session_id)  # the next polls get through
    assert result.outcome is Outcome.APPROVED and result.txn_ref == p.txn_ref
    assert len(control.ledger(p.txn_ref)) == 1
    assert pos.http.count_suffix("POST", "/transaction") == 1


# --------------------------------------------------------------------------------------------
# 8. Recovery of a session that never reached Linkly
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["hyphenated", "compact"])
def test_recovery_of_an_unknown_session_is_not_found(
    form: str, control: PadOneControl, pos: LinklyClientPos
) -> None:
    sid = str(uuid.uuid4()) if form == "hyphenated" else uuid.uuid4().hex
    answer = pos.client.transaction_status(credentials=pos.creds, session_id=sid)
    assert answer.session_id == sid
    assert answer.state is RecoveryState.NOT_FOUND and answer.result is None
    assert pos.http.made("GET", f"/v1/sessions/{sid}/transaction") == [404]
    assert control.ledger() == [] and control.sessions() == []
