"""Property schemas: amounts are Decimals with two decimals, refused clearly otherwise."""

from __future__ import annotations

from decimal import Decimal

import pytest
from marshmallow import ValidationError

from bizproc_app.payments.robot_properties import Amount, SendToPosProperties


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("0", "greater than zero"),
        ("-1", "greater than zero"),
        ("1.234", "two decimal places"),
        ("1e-30", "two decimal places"),
        ("1e+26", "at most"),  # found by the fuzzer: quantize() overflowed
        ("1e+999999", "at most"),
        ("10000000.00", "at most"),
        ("NaN", "number"),
        ("Infinity", "number"),
        ("abc", "number"),
        (10.5, "number"),  # floats are refused, never rounded
        (True, "number"),
    ],
)
def test_bad_amounts_are_refused_with_a_clear_message(raw: object, message: str) -> None:
    with pytest.raises(ValidationError) as err:
        Amount().deserialize(raw)
    assert message in " ".join(err.value.messages).lower()


@pytest.mark.parametrize(
    ("raw", "value"), [("10", "10.00"), ("9999999.99", "9999999.99"), (5, "5.00")]
)
def test_good_amounts_become_decimals(raw: object, value: str) -> None:
    assert Amount().deserialize(raw) == Decimal(value)


def test_blank_properties_count_as_absent_and_unknown_keys_are_errors() -> None:
    assert SendToPosProperties().load({"amount": "", "terminal": " "}) == {}
    with pytest.raises(ValidationError) as err:
        SendToPosProperties().load({"amount": "1.00", "colour": "red"})
    assert "colour" in err.value.messages
