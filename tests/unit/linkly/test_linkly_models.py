"""Parsing of Linkly responses and notifications: casing, padding, mappings, outcomes."""

from __future__ import annotations

from typing import Any

import pytest

from bizproc_app.linkly import (
    DisplayEvent,
    LogonResult,
    Outcome,
    ProtocolError,
    ReceiptEvent,
    ReceiptReprint,
    StatusResult,
    TransactionResult,
    parse_notification,
)
from tests.unit.linkly.helpers import load_json


@pytest.fixture(params=["pascal", "camel"])
def casing(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_camel_and_pascal_transactions_parse_identically() -> None:
    pascal = TransactionResult.from_json(load_json("transaction_pascal")["Response"])
    camel = TransactionResult.from_json(load_json("transaction_camel")["response"])
    assert pascal == camel
    assert pascal.raw != camel.raw  # raw keeps Linkly's own keys


def test_transaction_fields(casing: str) -> None:
    body = load_json(f"transaction_{casing}")
    result = TransactionResult.from_json(
        next(iter(v for k, v in body.items() if k.lower() == "response"))
    )
    assert result.success is True
    assert result.outcome is Outcome.APPROVED
    assert result.response_code == "00"
    assert result.response_text == "APPROVED"
    assert result.txn_type == "P"
    assert result.txn_ref == "ABCDEF0123456789"
    assert result.amount_cents == 1000
    assert result.cash_cents == 0
    assert result.auth_code == "12345"
    assert result.rrn == "123456789012"
    assert result.stan == "123"
    assert result.card_type == "VISA"
    assert result.card_name == "04"
    assert result.pan == "492181......1234"
    assert result.account == "CRD"
    assert result.caid == "0123456789"
    assert result.catid == "12345678"
    assert result.date == "2024-05-01T10:11:12"
    assert result.date_settlement == "2024-05-01T00:00:00"
    assert result.rfn == "klmnop123"
    assert result.purchase_analysis_data == {"RFN": "klmnop123", "AMT": "000001000"}
    assert result.txn_flags["cardentry"] == "C"


@pytest.mark.parametrize(
    ("value", "account"),
    [
        (" ", None),
        ("", None),
        (None, None),
        ("1", "CHQ"),
        ("2", "CRD"),
        ("3", "SAV"),
        ("9", None),
        ("CR", "CRD"),
    ],
)
def test_account_type_mapping(value: Any, account: str | None) -> None:
    assert TransactionResult.from_json({"AccountType": value}).account == account


@pytest.mark.parametrize(
    ("value", "expected"),
    [(123456, "123456"), (12, "12"), ("001234", "001234"), (None, None), ("  ", None)],
)
def test_auth_code_becomes_a_string(value: Any, expected: str | None) -> None:
    assert TransactionResult.from_json({"authCode": value}).auth_code == expected


@pytest.mark.parametrize(
    ("success", "code", "text", "outcome"),
    [
        (True, "00", "APPROVED", Outcome.APPROVED),
        (True, "08", "HONOUR WITH ID", Outcome.APPROVED),
        ("true", "00", "APPROVED", Outcome.APPROVED),
        (False, "51", "INSUFFICIENT FUNDS  ", Outcome.DECLINED),
        (False, "05", "DO NOT HONOUR", Outcome.DECLINED),
        (False, "55", "INCORRECT PIN", Outcome.DECLINED),
        (False, "TM", "OPERATOR CANCELLED  ", Outcome.CANCELLED),
        (False, "XX", "TXN CANCELLED", Outcome.CANCELLED),
        (False, "TM", "", Outcome.CANCELLED),
        (False, "BY", "PINPAD BUSY", Outcome.FAILED),
        (False, "PF", "PINPAD OFFLINE", Outcome.FAILED),
        (False, "TI", "OPERATOR TIMEOUT", Outcome.FAILED),
        (False, "X0", "NO RESPONSE", Outcome.FAILED),
        (False, "", "", Outcome.FAILED),
        (None, "00", "APPROVED", Outcome.DECLINED),  # no Success flag: never approved
        ("yes", "00", "APPROVED", Outcome.DECLINED),
    ],
)
def test_outcome_classification(success: Any, code: str, text: str, outcome: Outcome) -> None:
    result = TransactionResult.from_json(
        {"Success": success, "ResponseCode": code, "ResponseText": text}
    )
    assert result.outcome is outcome


def test_cancel_codes_are_configurable() -> None:
    body = {"success": False, "responseCode": "Q1", "responseText": "ABORTED"}
    assert TransactionResult.from_json(body).outcome is Outcome.FAILED
    result = TransactionResult.from_json(body, cancel_codes=frozenset({"Q1"}))
    assert result.outcome is Outcome.CANCELLED


@pytest.mark.parametrize("data", [None, [], "text", 3])
def test_non_object_response_is_a_protocol_error(data: Any) -> None:
    with pytest.raises(ProtocolError):
        TransactionResult.from_json(data)


def test_status_logon_and_reprint_results_parse_either_casing() -> None:
    status = {
        "Success": True,
        "ResponseCode": "00",
        "ResponseText": "OK  ",
        "LoggedOn": True,
        "Catid": "12345678",
        "Caid": "9876 ",
        "PinPadSerialNumber": "SN1 ",
        "EftTerminalType": "PCEFTPOSVirtualPinpad",
    }
    camel = {
        "success": True,
        "responseCode": "00",
        "responseText": "OK",
        "loggedOn": True,
        "catId": "12345678",
        "caId": "9876",
        "pinPadSerialNumber": "SN1",
        "eftTerminalType": "PCEFTPOSVirtualPinpad",
    }
    assert StatusResult.from_json(status) == StatusResult.from_json(camel)
    assert StatusResult.from_json(camel).logged_on is True
    assert StatusResult.from_json({"loggedOn": False}).logged_on is False
    logon = LogonResult.from_json(
        {"Success": True, "ResponseCode": "00", "PinPadVersion": " 1.2 ", "Stan": 7}
    )
    assert (logon.success, logon.pinpad_version, logon.stan) == (True, "1.2", "7")
    reprint = ReceiptReprint.from_json(
        {"success": True, "receiptText": ["  CENTRED  ", "TOTAL  $10.00   "]}
    )
    assert reprint.lines == ["  CENTRED", "TOTAL  $10.00"]


def test_display_notification_both_casings(casing: str) -> None:
    note = parse_notification(load_json(f"display_{casing}"))
    assert note.session_id == "0d6f7a3e5b7c4e0f9a1b2c3d4e5f6a7b"
    assert note.type == "display"
    assert not note.is_final
    event = note.response
    assert isinstance(event, DisplayEvent)
    assert event.lines == ["SWIPE CARD", ""]
    assert event.text == "SWIPE CARD"
    assert event.cancel_key is True
    assert (event.accept_yes_key, event.decline_no_key, event.authorise_key, event.ok_key) == (
        False,
    ) * 4
    assert (event.input_type, event.graphic_code) == ("0", "3")
    assert not event.wants_input
    assert (event.number_of_lines, event.line_length) == (2, 20)


def test_display_events_equal_across_casings() -> None:
    assert parse_notification(load_json("display_camel")) == parse_notification(
        load_json("display_pascal")
    )


def test_receipt_notification_both_casings(casing: str) -> None:
    note = parse_notification(load_json(f"receipt_{casing}"))
    event = note.response
    assert isinstance(event, ReceiptEvent)
    assert note.type == "receipt"
    assert event.type == "C"
    assert event.lines == ["   CUSTOMER COPY", "VISA         $10.00", "APPROVED"]
    assert event.is_preprint is False


def test_transaction_notification_both_casings(casing: str) -> None:
    note = parse_notification(load_json(f"transaction_{casing}"))
    assert note.is_final
    assert isinstance(note.response, TransactionResult)
    assert note.response.outcome is Outcome.APPROVED
    assert note.response.rfn == "klmnop123"


def test_other_notification_types_give_a_dict() -> None:
    note = parse_notification(
        {"SessionId": "s1", "ResponseType": "Logon", "Response": {"Success": True}}
    )
    assert note.type == "logon"
    assert note.response == {"Success": True}


@pytest.mark.parametrize(
    "body",
    [
        {"ResponseType": "display", "Response": {}},
        {"SessionId": "s1", "Response": {}},
        {"SessionId": "s1", "ResponseType": "display", "Response": None},
        {"SessionId": "s1", "ResponseType": "transaction"},
        [],
    ],
)
def test_malformed_notifications_raise_protocol_error(body: Any) -> None:
    with pytest.raises(ProtocolError):
        parse_notification(body)


def test_display_input_prompt() -> None:
    event = DisplayEvent.from_json(
        {"DisplayText": ["ENTER AMOUNT"], "InputType": "2", "OKKeyFlag": "True"}
    )
    assert event.wants_input and event.ok_key
