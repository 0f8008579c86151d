"""Frozen result models parsed case-insensitively from Linkly JSON responses."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bizproc_app.linkly._parse import (
    as_dict,
    flag,
    opt_int,
    opt_text,
    reply_head,
    str_map,
    text,
    text_lines,
)

# "TM" is widely quoted as "operator cancelled" but appears in no Linkly source; the
# response text ("OPERATOR CANCELLED", "TXN CANCELLED") is the main signal.
DEFAULT_CANCEL_CODES: frozenset[str] = frozenset({"TM"})

_ACCOUNTS = {
    "1": "CHQ",
    "2": "CRD",
    "3": "SAV",
    "CHQ": "CHQ",
    "CR": "CRD",
    "CRD": "CRD",
    "SAV": "SAV",
}


class Outcome(StrEnum):
    """What a final transaction response means for the sale."""

    APPROVED = "approved"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    FAILED = "failed"


def classify(
    success: bool, response_code: str, response_text: str, cancel_codes: frozenset[str]
) -> Outcome:
    """Classify a final response: Success decides approval, then cancel, bank decline, failure."""
    if success:
        return Outcome.APPROVED
    if "CANCEL" in response_text.upper() or response_code.upper() in cancel_codes:
        return Outcome.CANCELLED
    if len(response_code) == 2 and response_code.isdigit():
        return Outcome.DECLINED
    return Outcome.FAILED


def account_name(value: Any) -> str | None:
    """Map Linkly AccountType (' ', '1', '2', '3') to 'CHQ', 'CRD', 'SAV' or None."""
    return _ACCOUNTS.get(text(value).upper())


@dataclass(frozen=True)
class TransactionResult:
    """A final transaction response (sync reply, notification or recovery GET)."""

    success: bool
    response_code: str
    response_text: str
    outcome: Outcome
    txn_type: str
    txn_ref: str
    amount_cents: int | None
    cash_cents: int | None
    auth_code: str | None
    rrn: str | None
    stan: str | None
    card_type: str | None
    card_name: str | None
    pan: str | None
    account: str | None
    caid: str | None
    catid: str | None
    date: str | None
    date_settlement: str | None
    rfn: str | None
    purchase_analysis_data: dict[str, Any]
    txn_flags: dict[str, Any]
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(
        cls, data: Mapping[str, Any], *, cancel_codes: frozenset[str] = DEFAULT_CANCEL_CODES
    ) -> TransactionResult:
        """Parse a transaction Response object in either casing."""
        d = as_dict(data, "transaction response")
        pad = str_map(d.get("purchaseanalysisdata"), upper=True)
        head = reply_head(d)
        return cls(
            **head,
            outcome=classify(
                head["success"], head["response_code"], head["response_text"], cancel_codes
            ),
            txn_type=text(d.get("txntype")),
            txn_ref=text(d.get("txnref")),
            amount_cents=opt_int(d.get("amtpurchase")),
            cash_cents=opt_int(d.get("amtcash")),
            # AuthCode is an int in Linkly's models, so leading zeros are already lost.
            auth_code=opt_text(d.get("authcode")),
            rrn=opt_text(d.get("rrn")),
            stan=opt_text(d.get("stan")),
            card_type=opt_text(d.get("cardtype")),
            card_name=opt_text(d.get("cardname")),
            pan=opt_text(d.get("pan")),
            account=account_name(d.get("accounttype")),
            caid=opt_text(d.get("caid")),
            catid=opt_text(d.get("catid")),
            date=opt_text(d.get("date")),
            date_settlement=opt_text(d.get("datesettlement")),
            rfn=opt_text(pad.get("RFN")),
            purchase_analysis_data=pad,
            txn_flags=str_map(d.get("txnflags")),
            raw=dict(data),
        )


@dataclass(frozen=True)
class StatusResult:
    """Reply to a `status` request: is the PIN pad logged on, and its identity."""

    success: bool
    response_code: str
    response_text: str
    logged_on: bool
    catid: str | None
    caid: str | None
    pinpad_serial_number: str | None
    pinpad_version: str | None
    bank_description: str | None
    retailer_name: str | None
    eft_terminal_type: str | None
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> StatusResult:
        """Parse a status Response object in either casing."""
        d = as_dict(data, "status response")
        return cls(
            **reply_head(d),
            logged_on=flag(d.get("loggedon")),
            catid=opt_text(d.get("catid")),
            caid=opt_text(d.get("caid")),
            pinpad_serial_number=opt_text(d.get("pinpadserialnumber")),
            pinpad_version=opt_text(d.get("pinpadversion")),
            bank_description=opt_text(d.get("bankdescription")),
            retailer_name=opt_text(d.get("retailername")),
            eft_terminal_type=opt_text(d.get("eftterminaltype")),
            raw=dict(data),
        )


@dataclass(frozen=True)
class LogonResult:
    """Reply to a `logon` request."""

    success: bool
    response_code: str
    response_text: str
    pinpad_version: str | None
    date: str | None
    catid: str | None
    caid: str | None
    stan: str | None
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LogonResult:
        """Parse a logon Response object in either casing."""
        d = as_dict(data, "logon response")
        return cls(
            **reply_head(d),
            pinpad_version=opt_text(d.get("pinpadversion")),
            date=opt_text(d.get("date")),
            catid=opt_text(d.get("catid")),
            caid=opt_text(d.get("caid")),
            stan=opt_text(d.get("stan")),
            raw=dict(data),
        )


@dataclass(frozen=True)
class ReceiptReprint:
    """Reply to a `reprintreceipt` request: the last receipt's lines (layout kept)."""

    success: bool
    response_code: str
    response_text: str
    lines: list[str]
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ReceiptReprint:
        """Parse a reprintreceipt Response object in either casing."""
        d = as_dict(data, "reprint response")
        return cls(
            **reply_head(d),
            lines=text_lines(d.get("receipttext"), keep_left=True),
            raw=dict(data),
        )


class RecoveryState(StrEnum):
    """State of a transaction session as reported by the recovery GET."""

    FINAL = "final"
    IN_PROGRESS = "in_progress"
    NOT_FOUND = "not_found"


@dataclass(frozen=True)
class RecoveryResult:
    """Answer of the recovery GET; NOT_FOUND means the request never reached Linkly."""

    session_id: str
    state: RecoveryState
    result: TransactionResult | None = None


@dataclass(frozen=True)
class SubmitResult:
    """Answer to a transaction POST: accepted (result pending) or already final."""

    session_id: str
    status_code: int
    result: TransactionResult | None = None

    @property
    def accepted(self) -> bool:
        """True when the final result is still to come (notification or recovery GET)."""
        return self.result is None
