"""Purchases and refunds through the real LinklyClient: approved (in both casings), refunded in
part, declined, cancelled from the POS, and refused by a busy PIN pad."""

from __future__ import annotations

from decimal import Decimal

import pytest
import redis

from bizproc_app.linkly import DisplayEvent, Key, Outcome, ReceiptEvent, to_cents, token_cache_key
from simulators.linkly import LinklySimulator
from tests.helpers.pos import LinklyClientPos
from tests.integration.linkly_roundtrip.helpers import (
    TOKEN_PREFIX,
    PadOneControl,
    check_envelopes,
    final_of,
)

# 1 + 11. The happy path, in both casings
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("casing", ["camel", "pascal"])
def test_purchase_round_trip(
    casing: str,
    sim: LinklySimulator,
    control: PadOneControl,
    pos: LinklyClientPos,
    redis_client: redis.Redis,
) -> None:
    sim.config.casing = casing
    assert to_cents(Decimal("10.00")) == 1000

    token = pos.client.token(credentials=pos.creds)
    assert token
    key = TOKEN_PREFIX + token_cache_key(pos.creds.secret, pos.creds.pos_id)
    raw = redis_client.get(key)
    assert raw is not None and token.encode() not in raw  # cached, and encrypted at rest
    assert pos.cached_token() == token

    p = pos.purchase(Decimal("10.00"))
    assert p.submit is not None
    assert p.submit.accepted and p.submit.status_code == 202 and p.submit.result is None
    assert p.submit.session_id == p.session_id

    events = pos.wait_final_event(p.session_id)
    notes = check_envelopes(events, p)
    types = [n.type for n in notes]
    assert types == ["display"] * 5 + ["receipt", "receipt", "transaction"], types

    # Display events: the card script with the right key flags and graphics.
    displays = [n.response for n in notes if n.type == "display"]
    assert all(isinstance(d, DisplayEvent) for d in displays)
    shown = [(d.lines, d.cancel_key, d.graphic_code) for d in displays]
    assert shown == [
        (["PRESENT CARD", ""], True, "3"),
        (["SELECT ACCOUNT", "CHQ SAV CR"], True, "4"),
        (["ENTER PIN", ""], True, "5"),
        (["PROCESSING", "PLEASE WAIT"], False, "0"),
        (["APPROVED", ""], False, "6"),
    ]
    for d in displays:
        assert isinstance(d, DisplayEvent)
        assert (d.number_of_lines, d.line_length, d.input_type) == (2, 20, "0")
        assert not (d.ok_key or d.accept_yes_key or d.decline_no_key or d.authorise_key)
        assert not d.wants_input

    # Receipts: customer then merchant copy, showing our TxnRef, the amount and the approval.
    receipts = [n.response for n in notes if n.type == "receipt"]
    assert [r.type for r in receipts] == ["C", "M"]
    for r in receipts:
        assert isinstance(r, ReceiptEvent)
        assert not r.is_preprint
        text = "\n".join(r.lines)
        assert p.txn_ref in text and "$10.00" in text and "(00) APPROVED" in text
    assert "CUSTOMER COPY" in receipts[0].lines[1]
    assert "MERCHANT COPY" in receipts[1].lines[1]

    # The final event and the recovery GET agree on an approval with an RFN.
    notified = final_of(notes)
    result = pos.wait_final(p.session_id)
    assert result.outcome is Outcome.APPROVED and result.success
    assert result.response_code == "00"
    assert result.txn_type == "P"
    assert result.txn_ref == p.txn_ref
    assert result.amount_cents == 1000 and result.cash_cents == 0
    assert result.rfn and result.purchase_analysis_data["AMT"] == "000001000"
    assert result.account in {"CHQ", "SAV", "CRD"}
    assert result.account == "CRD"  # the virtual cardholder's default account
    assert result.card_type == "VISA" and result.auth_code and result.rrn
    assert notified == result
    assert pos.wait_final(p.session_id) == result  # the recovery GET is repeatable
    assert pos.wait_final(p.session_id.replace("-", "")) == result  # either UUID form

    # The simulator answered in the requested casing, and the client read it either way.
    envelope_key, code_key = (
        ("sessionId", "responseCode") if casing == "camel" else ("SessionId", "ResponseCode")
    )
    assert envelope_key in events[-1]["body"]
    assert code_key in result.raw and code_key in notified.raw

    # Exactly one charge for our TxnRef.
    charges = control.ledger(p.txn_ref)
    assert len(charges) == 1
    charge = charges[0]
    assert (charge["txnType"], charge["amountCents"], charge["rfn"]) == ("P", 1000, result.rfn)
    assert charge["sessionId"] == p.session_id and charge["pinpad"] == "1"
    assert pos.http.made("POST", f"/v1/sessions/{p.session_id}/transaction") == [202]


# --------------------------------------------------------------------------------------------
# 2. Refunds
# --------------------------------------------------------------------------------------------


def test_partial_refund_then_refund_beyond_the_remainder_is_declined(
    control: PadOneControl, pos: LinklyClientPos
) -> None:
    purchase = pos.purchase(Decimal("10.00"))
    original = pos.wait_final(purchase.session_id)
    assert original.outcome is Outcome.APPROVED and original.rfn

    first = pos.refund(Decimal("4.00"), original.rfn)
    assert first.submit is not None and first.submit.accepted
    refunded = pos.wait_final(first.session_id)
    assert refunded.outcome is Outcome.APPROVED
    assert (refunded.txn_type, refunded.txn_ref, refunded.amount_cents) == ("R", first.txn_ref, 400)
    assert refunded.rfn and refunded.rfn != original.rfn
    notes = check_envelopes(pos.wait_final_event(first.session_id), first)
    assert final_of(notes) == refunded
    entries = control.ledger(first.txn_ref)
    assert len(entries) == 1
    assert entries[0]["txnType"] == "R" and entries[0]["amountCents"] == 400
    assert entries[0]["originalRfn"] == original.rfn

    # 4.00 + 7.00 > 10.00: declined, nothing moves.
    over = pos.refund(Decimal("7.00"), original.rfn)
    declined = pos.wait_final(over.session_id)
    assert declined.outcome is Outcome.DECLINED and not declined.success
    assert declined.response_code == "13" and declined.txn_ref == over.txn_ref
    assert declined.rfn is None
    assert control.ledger(over.txn_ref) == []

    # The exact remainder is still refundable.
    rest = pos.refund(Decimal("6.00"), original.rfn)
    assert pos.wait_final(rest.session_id).outcome is Outcome.APPROVED
    kinds = [(e["txnType"], e["amountCents"]) for e in control.ledger()]
    assert kinds == [("P", 1000), ("R", 400), ("R", 600)]


# --------------------------------------------------------------------------------------------
# 3. Decline
# --------------------------------------------------------------------------------------------


def test_bank_decline(control: PadOneControl, pos: LinklyClientPos) -> None:
    p = pos.purchase(Decimal("10.51"))
    assert p.submit is not None and p.submit.accepted
    result = pos.wait_final(p.session_id)
    assert result.outcome is Outcome.DECLINED and not result.success
    assert result.response_code == "51"
    assert result.response_text == "INSUFFICIENT FUNDS"
    assert result.txn_ref == p.txn_ref and result.amount_cents == 1051
    assert result.rfn is None
    notes = check_envelopes(pos.wait_final_event(p.session_id), p)
    assert final_of(notes) == result
    receipts = [n.response for n in notes if n.type == "receipt"]
    assert receipts and all("(51) DECLINED" in "\n".join(r.lines) for r in receipts)
    assert control.ledger(p.txn_ref) == [] and control.ledger() == []


# --------------------------------------------------------------------------------------------
# 4. Cancel from the POS while the PIN pad allows it
# --------------------------------------------------------------------------------------------


def test_cancel_with_sendkey_while_cancel_is_enabled(
    control: PadOneControl, pos: LinklyClientPos
) -> None:
    control.patch_pad(mode="interactive")
    p = pos.purchase(Decimal("25.00"))
    assert p.submit is not None and p.submit.accepted

    assert pos.wait_display(p.session_id, "PRESENT CARD").cancel_key
    assert control.press("card")
    assert control.press("sav")
    pin = pos.wait_display(p.session_id, "ENTER PIN")
    assert pin.cancel_key

    pos.client.send_key(credentials=pos.creds, session_id=p.session_id, key=Key.CANCEL_OR_OK)

    result = pos.wait_final(p.session_id)
    assert result.outcome is Outcome.CANCELLED and not result.success
    assert result.response_code == "TM"
    assert result.txn_ref == p.txn_ref and result.rfn is None
    notes = check_envelopes(pos.wait_final_event(p.session_id), p)
    assert final_of(notes) == result
    assert "receipt" not in [n.type for n in notes]
    last_display = [n.response for n in notes if n.type == "display"][-1]
    assert isinstance(last_display, DisplayEvent) and last_display.lines[0] == "TXN CANCELLED"
    assert control.session(p.session_id)["inputs"] == [
        {"sendkey": "0", "data": "", "accepted": True}
    ]
    assert control.ledger() == []


# --------------------------------------------------------------------------------------------
# 5. Busy PIN pad
# --------------------------------------------------------------------------------------------


def test_second_purchase_on_a_busy_pinpad_fails_with_by(
    sim: LinklySimulator, control: PadOneControl, pos: LinklyClientPos
) -> None:
    control.patch_pad(mode="interactive")  # the first purchase waits for the cardholder
    first = pos.purchase(Decimal("12.00"))
    pos.wait_display(first.session_id, "PRESENT CARD")

    second = pos.purchase(Decimal("13.00"))
    assert second.submit is not None and second.submit.accepted
    busy = pos.wait_final(second.session_id)
    assert busy.outcome is Outcome.FAILED and not busy.success
    assert busy.response_code == "BY" and busy.txn_ref == second.txn_ref
    notes = check_envelopes(pos.wait_final_event(second.session_id), second)
    assert [n.type for n in notes] == ["transaction"]

    # The first purchase is unaffected: the cardholder finishes it on the PIN pad.
    for button in ("card", "crd", "1", "2", "3", "4", "ok"):
        assert control.press(button), button
    approved = pos.wait_final(first.session_id)
    assert approved.outcome is Outcome.APPROVED and approved.txn_ref == first.txn_ref

    entries = control.ledger()
    assert [(e["txnRef"], e["amountCents"]) for e in entries] == [(first.txn_ref, 1200)]
    assert sim.pinpad("1").current is None
