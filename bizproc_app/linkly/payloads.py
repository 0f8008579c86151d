"""Request blocks of the v1 operations, validated before anything is sent."""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from bizproc_app.linkly.money import validate_cents, validate_txn_ref

_PAD_TAG = re.compile(r"[A-Z0-9]{3}")
_CURRENCY = re.compile(r"[A-Z]{3}")
RECEIPT_AUTO_PRINT = frozenset({"0", "7", "9"})
CORE_TAGS = frozenset({"RFN", "OPR", "AMT", "PCM"})
MAX_KEY_DATA = 60


class Key(StrEnum):
    """PIN pad keys the POS can press through `sendkey`."""

    CANCEL_OR_OK = "0"
    YES = "1"
    NO = "2"
    AUTH = "3"


def transaction_request(
    txn_type: str,
    txn_ref: str,
    amount_cents: int,
    currency: str,
    receipt_auto_print: str,
    extra_pad: Mapping[str, str] | None,
    *,
    operator_id: int,
    operator_name: str,
    rfn: str | None = None,
) -> dict[str, Any]:
    """Build the Request block of a purchase ("P") or matched refund ("R", needs rfn).

    Every Linkly sample sends OPR (the operator), AMT (the total) and PCM (POS capabilities)
    with a sale, so they are always set here; other PAD tags come in `extra_pad`.
    """
    validate_txn_ref(txn_ref)
    validate_cents(amount_cents)
    if not isinstance(currency, str) or not _CURRENCY.fullmatch(currency):
        raise ValueError("currency must be three upper-case letters")
    if receipt_auto_print not in RECEIPT_AUTO_PRINT:
        raise ValueError(f"receipt_auto_print must be one of {sorted(RECEIPT_AUTO_PRINT)}")
    pad = core_pad(amount_cents, operator_id, operator_name)
    for tag, value in (extra_pad or {}).items():
        if not isinstance(tag, str) or not _PAD_TAG.fullmatch(tag) or tag in CORE_TAGS:
            raise ValueError(
                f"invalid PurchaseAnalysisData tag {tag!r} (RFN, OPR, AMT, PCM are set here)"
            )
        if not isinstance(value, str):
            raise TypeError(f"PurchaseAnalysisData {tag} must be a string")
        pad[tag] = value
    if txn_type == "R":
        if not isinstance(rfn, str) or not rfn.strip():
            raise ValueError("rfn of the original purchase is required for a refund")
        pad["RFN"] = rfn.strip()
    return {
        "Merchant": "00",
        "Application": "00",
        "TxnType": txn_type,
        "AmtPurchase": amount_cents,
        "AmtCash": 0,
        "TxnRef": txn_ref,
        "CurrencyCode": currency,
        "CutReceipt": "0",
        "ReceiptAutoPrint": receipt_auto_print,
        "PurchaseAnalysisData": pad,
    }


def core_pad(amount_cents: int, operator_id: int, operator_name: str) -> dict[str, str]:
    """OPR ("operatorId|name"), AMT (the total in cents, at least 7 digits) and PCM ("0000")."""
    if not isinstance(operator_id, int) or operator_id < 0:
        raise ValueError("operator_id must be a non-negative integer")
    name = "".join(c for c in str(operator_name) if c.isprintable() and c != "|")[:30].strip()
    return {"OPR": f"{operator_id}|{name}", "AMT": f"{amount_cents:07d}", "PCM": "0000"}


def send_key_request(key: Key | str, data: str) -> dict[str, str]:
    """Build the Request block of `sendkey`; Data is at most 60 characters."""
    key = Key(key)
    if not isinstance(data, str) or len(data) > MAX_KEY_DATA:
        raise ValueError(f"data must be a string of at most {MAX_KEY_DATA} characters")
    return {"Key": key.value, "Data": data}


def logon_request(logon_type: str = " ") -> dict[str, str]:
    """Build the Request block of `logon` (" " standard)."""
    return {
        "Merchant": "00",
        "LogonType": logon_type,
        "Application": "00",
        "ReceiptAutoPrint": "0",
        "CutReceipt": "0",
    }


def status_request(status_type: str = "0") -> dict[str, str]:
    """Build the Request block of `status` ("0" standard)."""
    return {"Merchant": "00", "StatusType": status_type, "Application": "00"}


def reprint_request(reprint_type: str = "2") -> dict[str, str]:
    """Build the Request block of `reprintreceipt` ("2" returns the last receipt to the POS)."""
    return {"Merchant": "00", "ReceiptAutoPrint": "0", "ReprintType": reprint_type}
