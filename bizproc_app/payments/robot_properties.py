"""The robots' properties, strictly checked, and the money field every form shares."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, pre_load, validate

from bizproc_app.models import MAX_ID

MAX_AMOUNT = Decimal("9999999.99")  # Linkly's limit: 999,999,999 cents
_USER = re.compile(r"^(?:user_)?(\d{1,10})$")


def _drop_blanks(data: Any) -> Any:
    """Bitrix24 sends unset optional properties as empty strings: treat them as absent."""
    if not isinstance(data, dict):
        return data
    return {k: v for k, v in data.items() if not (isinstance(v, str) and not v.strip())}


class Amount(fields.Field[Decimal]):
    """A positive money amount with at most two decimals, as a Decimal (never a float)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Decimal:
        if isinstance(value, bool | float) or not isinstance(value, str | int):
            raise ValidationError("Must be a number like 10.50.")
        try:
            amount = Decimal(str(value).strip())
        except InvalidOperation as exc:
            raise ValidationError("Must be a number like 10.50.") from exc
        if not amount.is_finite():
            raise ValidationError("Must be a number like 10.50.")
        if amount <= 0:
            raise ValidationError("Must be greater than zero.")
        if amount > MAX_AMOUNT:  # before quantize: a huge number cannot be quantized
            raise ValidationError(f"Must be at most {MAX_AMOUNT}.")
        if amount != amount.quantize(Decimal("0.01")):
            raise ValidationError("At most two decimal places.")
        return amount.quantize(Decimal("0.01"))


class UserId(fields.Field[int]):
    """A Bitrix24 user as the designer sends it: "user_5" or "5"."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, list) and len(value) == 1:
            value = value[0]
        match = _USER.match(str(value).strip()) if isinstance(value, str | int) else None
        if not match or not 0 < int(match.group(1)) <= MAX_ID:
            raise ValidationError("Must be a user, like user_5.")
        return int(match.group(1))


def _id(**kwargs: Any) -> fields.Integer:
    return fields.Integer(strict=False, validate=validate.Range(min=1, max=MAX_ID), **kwargs)


class StrictProperties(Schema):
    """Our own robot properties: unknown keys are errors, blanks mean absent."""

    class Meta:
        unknown = RAISE

    @pre_load
    def _blanks(self, data: Any, **_: Any) -> Any:
        return _drop_blanks(data)


class SendToPosProperties(StrictProperties):
    """Properties of Send to POS."""

    terminal = fields.String(validate=validate.Length(max=100))
    user = UserId()
    amount = Amount()
    currency = fields.String(
        validate=validate.Regexp(r"^[A-Z]{3}$", error="Must be a currency code like AUD.")
    )
    invoice_id = _id()
    order_payment_id = _id()


class RefundViaPosProperties(StrictProperties):
    """Properties of Refund via POS."""

    payment_id = fields.String(validate=validate.Length(min=1, max=64))
    invoice_id = _id()
    amount = Amount()
    terminal = fields.String(validate=validate.Length(max=100))
    user = UserId()

    @pre_load
    def _needs_a_target(self, data: Any, **_: Any) -> Any:
        if isinstance(data, dict) and not (data.get("payment_id") or data.get("invoice_id")):
            raise ValidationError("Give payment_id or invoice_id.", "payment_id")
        return data
