"""Amounts in cents, session ids, TxnRefs, settings validation and the backoff helper."""

from __future__ import annotations

import re
import uuid
from decimal import Decimal

import pytest

from bizproc_app.linkly import (
    LinklySettings,
    TerminalCredentials,
    cents_to_decimal,
    new_session_id,
    new_txn_ref,
    to_cents,
    validate_cents,
    validate_session_id,
    validate_txn_ref,
)


@pytest.mark.parametrize(
    ("amount", "cents"),
    [
        (Decimal("10.00"), 1000),
        (Decimal("10.5"), 1050),
        ("10.51", 1051),
        (" 0.01 ", 1),
        (10, 1000),
        ("10.000", 1000),
        (Decimal("9999999.99"), 999_999_999),
    ],
)
def test_to_cents_accepts_exact_amounts(amount: Decimal | str | int, cents: int) -> None:
    assert to_cents(amount) == cents


@pytest.mark.parametrize("amount", [10.0, 0.1, True, None, [1]])
def test_to_cents_rejects_floats_and_other_types(amount: object) -> None:
    with pytest.raises(TypeError):
        to_cents(amount)


@pytest.mark.parametrize(
    ("amount", "problem"),
    [
        ("10.001", "more than 2 decimal places"),
        (Decimal("0.005"), "more than 2 decimal places"),
        ("0", "at least 1 cent"),
        ("0.00", "at least 1 cent"),
        ("-1.00", "at least 1 cent"),
        (-5, "at least 1 cent"),
        (Decimal("10000000.00"), "at most 999999999 cents"),
        ("abc", "not a decimal number"),
        ("NaN", "finite"),
        ("Infinity", "finite"),
        ("1e999999", "at most 999999999 cents"),  # would overflow the decimal context
        ("-1e999999", "at least 1 cent"),
        ("1e200000", "at most 999999999 cents"),  # int() of it would take seconds
        ("1E-999999", "more than 2 decimal places"),
    ],
)
def test_to_cents_rejects_bad_values_naming_the_problem(amount: object, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        to_cents(amount)


@pytest.mark.parametrize(
    ("cents", "error"),
    [
        (0, ValueError),
        (-1, ValueError),
        (1_000_000_000, ValueError),
        (True, TypeError),
        (1.0, TypeError),
    ],
)
def test_validate_cents_range_and_type(cents: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        validate_cents(cents)


def test_validate_cents_bounds_inclusive() -> None:
    assert validate_cents(1) == 1
    assert validate_cents(999_999_999) == 999_999_999


def test_cents_to_decimal() -> None:
    assert cents_to_decimal(1000) == Decimal("10.00")
    assert str(cents_to_decimal(1051)) == "10.51"
    assert to_cents(cents_to_decimal(999_999_999)) == 999_999_999
    with pytest.raises(TypeError):
        cents_to_decimal(10.0)


def test_new_session_id_is_a_fresh_uuid4() -> None:
    ids = {new_session_id() for _ in range(50)}
    assert len(ids) == 50
    for sid in ids:
        assert uuid.UUID(sid).version == 4
        assert validate_session_id(sid) == sid


@pytest.mark.parametrize(
    "sid", ["3f1d2c4b-5a6e-4f70-8a9b-0c1d2e3f4a5b", "3f1d2c4b5a6e4f708a9b0c1d2e3f4a5b"]
)
def test_validate_session_id_accepts_both_uuid_forms(sid: str) -> None:
    assert validate_session_id(sid) == sid


@pytest.mark.parametrize(
    "sid", ["", "not-a-uuid", "../../v1/pairing", "3f1d2c4b-5a6e-4f70-8a9b", None]
)
def test_validate_session_id_rejects_non_uuids(sid: object) -> None:
    with pytest.raises(ValueError, match="UUID"):
        validate_session_id(sid)


def test_new_txn_ref_is_16_upper_alphanumerics_and_unique() -> None:
    refs = {new_txn_ref() for _ in range(200)}
    assert len(refs) == 200
    for ref in refs:
        assert re.fullmatch(r"[A-Z0-9]{16}", ref)
        assert validate_txn_ref(ref) == ref


@pytest.mark.parametrize("ref", ["A", "abc123", "A" * 16, "0000000000000001"])
def test_validate_txn_ref_accepts(ref: str) -> None:
    assert validate_txn_ref(ref) == ref


@pytest.mark.parametrize(
    "ref", ["", "A" * 17, "ABC-123", "ABC 123", " ABC", "ÄBC", "١٢٣", None, 123]
)
def test_validate_txn_ref_rejects(ref: object) -> None:
    with pytest.raises(ValueError, match="1 to 16"):
        validate_txn_ref(ref)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"pos_vendor_id": "not-a-uuid"}, "pos_vendor_id"),
        ({"pos_name": " "}, "pos_name"),
        ({"auth_url": ""}, "auth_url"),
        ({"read_timeout": 0}, "read_timeout"),
        ({"renew_margin_seconds": -1}, "renew_margin_seconds"),
    ],
)
def test_settings_validation(overrides: dict[str, object], message: str) -> None:
    base: dict[str, object] = {
        "auth_url": "https://auth.example.test/",
        "api_url": "https://rest.example.test",
        "pos_vendor_id": str(uuid.uuid4()),
        "pos_name": "POS",
        "pos_version": "1",
    }
    assert LinklySettings(**base).auth_url == "https://auth.example.test"
    with pytest.raises(ValueError, match=message):
        LinklySettings(**{**base, **overrides})


@pytest.mark.parametrize(("secret", "pos_id"), [("", str(uuid.uuid4())), ("s", "register-1")])
def test_credentials_validation(secret: str, pos_id: str) -> None:
    with pytest.raises(ValueError):
        TerminalCredentials(secret=secret, pos_id=pos_id)
