"""Amounts in cents and the identifiers the POS mints: session ids and TxnRefs."""

from __future__ import annotations

import re
import secrets
import string
import uuid
from decimal import Decimal, InvalidOperation

MIN_CENTS = 1
MAX_CENTS = 999_999_999
TXN_REF_LENGTH = 16
_TXN_REF_ALPHABET = string.ascii_uppercase + string.digits
_TXN_REF_RE = re.compile(r"[A-Za-z0-9]{1,16}")
_SESSION_ID_RE = re.compile(
    r"[0-9a-fA-F]{32}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)


def to_cents(amount: Decimal | str | int) -> int:
    """Convert dollars (Decimal, decimal string, or an int of whole dollars) to cents.

    Floats and bools are refused. Trailing zeros beyond two places ("10.000") are accepted
    because the value is exact; a non-zero digit beyond the cents is rejected, never rounded.
    """
    if isinstance(amount, bool | float):
        raise TypeError("amount must be a Decimal, str or int, never a float or bool")
    if isinstance(amount, int):
        value = Decimal(amount)
    elif isinstance(amount, Decimal):
        value = amount
    elif isinstance(amount, str):
        try:
            value = Decimal(amount.strip())
        except InvalidOperation:
            raise ValueError("amount is not a decimal number") from None
    else:
        raise TypeError(f"amount must be a Decimal, str or int, not {type(amount).__name__}")
    if not value.is_finite():
        raise ValueError("amount must be a finite number")
    # Refuse huge magnitudes before any arithmetic: 1e999999 would overflow the context, and
    # int() of a large exponent takes seconds of CPU.
    if value.adjusted() >= len(str(MAX_CENTS)):
        raise ValueError(
            "amount must be at least 1 cent"
            if value < 0
            else f"amount must be at most {MAX_CENTS} cents"
        )
    cents = value * 100
    if cents != cents.to_integral_value():
        raise ValueError("amount has more than 2 decimal places")
    return validate_cents(int(cents))


def validate_cents(cents: int) -> int:
    """Return cents if it is an int in 1..999_999_999, else raise TypeError/ValueError."""
    if isinstance(cents, bool) or not isinstance(cents, int):
        raise TypeError("amount in cents must be an int")
    if cents < MIN_CENTS:
        raise ValueError("amount must be at least 1 cent")
    if cents > MAX_CENTS:
        raise ValueError(f"amount must be at most {MAX_CENTS} cents")
    return cents


def cents_to_decimal(cents: int) -> Decimal:
    """Convert an int number of cents to dollars as a two-place Decimal."""
    if isinstance(cents, bool) or not isinstance(cents, int):
        raise TypeError("cents must be an int")
    return Decimal(cents).scaleb(-2)


def format_cents(cents: int) -> str:
    """Integer cents as a two-place amount: 1000 -> "10.00", -5 -> "-0.05"."""
    return f"{cents_to_decimal(cents):.2f}"


def new_session_id() -> str:
    """Mint a Linkly sessionId: a random hyphenated UUID4, new for every request."""
    return str(uuid.uuid4())


def validate_session_id(session_id: str) -> str:
    """Return session_id if it is a UUID (hyphenated or 32 hex digits), else raise ValueError."""
    if not isinstance(session_id, str) or not _SESSION_ID_RE.fullmatch(session_id):
        raise ValueError("session_id must be a UUID (hyphenated or 32 hex digits)")
    return session_id


def new_txn_ref() -> str:
    """Mint a TxnRef: 16 random upper-case letters and digits."""
    return "".join(secrets.choice(_TXN_REF_ALPHABET) for _ in range(TXN_REF_LENGTH))


def validate_txn_ref(txn_ref: str) -> str:
    """Return txn_ref if it is 1..16 ASCII letters and digits, else raise ValueError."""
    if not isinstance(txn_ref, str) or not _TXN_REF_RE.fullmatch(txn_ref):
        raise ValueError("txn_ref must be 1 to 16 ASCII letters and digits")
    return txn_ref
