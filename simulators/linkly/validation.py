"""Request validation for the v1 session operations; each problem names its field."""

from __future__ import annotations

import re
import uuid
from typing import Any

from .config import SimulatorConfig
from .engine import uri_allowed

Errors = dict[str, list[str]]
MAX_AMOUNT = 999_999_999
SETTLEMENT_TYPES = set("SPLUHIMFD")
QUERYCARD_TYPES = {"0", "1", "5", "7", "8"}


def _add(errors: Errors, name: str, message: str) -> None:
    """Record one problem."""
    errors.setdefault(name, []).append(message)


def is_int(value: Any) -> bool:
    """True for a JSON integer (not a bool, float or string)."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_uuid(value: Any) -> bool:
    """True for a string that parses as a UUID."""
    if not isinstance(value, str) or not value:
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _fixed(errors: Errors, req: dict[str, Any], key: str, name: str, size: int) -> None:
    """A string of exactly size characters, when present."""
    if key in req and (not isinstance(req[key], str) or len(req[key]) != size):
        _add(errors, f"Request.{name}", f"{name} must be a {size}-character string")


def _amount(errors: Errors, req: dict[str, Any], key: str, name: str, low: int) -> None:
    """An integer number of cents in low..999999999."""
    value = req.get(key, 0 if low == 0 else None)
    if not is_int(value) or not low <= value <= MAX_AMOUNT:
        _add(
            errors,
            f"Request.{name}",
            f"{name} must be an integer number of cents between {low} and {MAX_AMOUNT}",
        )


def common(errors: Errors, req: dict[str, Any]) -> None:
    """Fields shared by every operation."""
    _fixed(errors, req, "merchant", "Merchant", 2)
    _fixed(errors, req, "application", "Application", 2)
    _fixed(errors, req, "receiptautoprint", "ReceiptAutoPrint", 1)
    if "cutreceipt" in req and req["cutreceipt"] not in ("0", "1"):
        _add(errors, "Request.CutReceipt", 'CutReceipt must be "0" or "1"')
    pad = req.get("purchaseanalysisdata")
    if pad is not None and not isinstance(pad, dict):
        _add(errors, "Request.PurchaseAnalysisData", "PurchaseAnalysisData must be an object")


def transaction(errors: Errors, req: dict[str, Any], cfg: SimulatorConfig) -> None:
    """Purchase / refund / cash-out fields."""
    txn_type = req.get("txntype")
    if not isinstance(txn_type, str) or len(txn_type) != 1 or not txn_type.strip():
        _add(errors, "Request.TxnType", "TxnType is required (one character)")
    elif txn_type not in cfg.txn_types:
        _add(
            errors,
            "Request.TxnType",
            f"TxnType {txn_type!r} is not supported (supported: {', '.join(cfg.txn_types)})",
        )
    if txn_type == "C":
        _amount(errors, req, "amtcash", "AmtCash", 1)
        _amount(errors, req, "amtpurchase", "AmtPurchase", 0)
    else:
        _amount(errors, req, "amtpurchase", "AmtPurchase", 1)
        _amount(errors, req, "amtcash", "AmtCash", 0)
    ref = req.get("txnref")
    if not isinstance(ref, str) or not ref.strip():
        _add(errors, "Request.TxnRef", "TxnRef is required")
    elif len(ref) > cfg.txn_ref_max:
        _add(errors, "Request.TxnRef", f"TxnRef must be at most {cfg.txn_ref_max} characters")
    _fixed(errors, req, "currencycode", "CurrencyCode", 3)
    if "accounttype" in req and req["accounttype"] not in ("", " ", "1", "2", "3"):
        _add(errors, "Request.AccountType", 'AccountType must be " ", "1", "2" or "3"')
    tip = req.get("amttip", 0)
    if not is_int(tip) or not 0 <= tip <= MAX_AMOUNT:
        _add(errors, "Request.AmtTip", "AmtTip must be an integer number of cents")
    if cfg.require_core_pad and txn_type in ("P", "R"):
        core_pad(errors, req)


def core_pad(errors: Errors, req: dict[str, Any]) -> None:
    """OPR, AMT and PCM, as Linkly's sample POS integrations send them with every sale."""
    pad = req.get("purchaseanalysisdata")
    pad = pad if isinstance(pad, dict) else {}
    where = "Request.PurchaseAnalysisData"
    opr, amt, pcm = pad.get("opr"), pad.get("amt"), pad.get("pcm")
    if not isinstance(opr, str) or not re.fullmatch(r"[0-9]+\|[^|]*", opr):
        _add(errors, f"{where}.OPR", 'OPR is required: "operatorId|name"')
    if not isinstance(amt, str) or not re.fullmatch(r"[0-9]{7,9}", amt):
        _add(errors, f"{where}.AMT", "AMT is required: the sale total in cents, 7 to 9 digits")
    elif is_int(req.get("amtpurchase")) and int(amt) != req["amtpurchase"]:
        _add(errors, f"{where}.AMT", "AMT must equal AmtPurchase")
    if not isinstance(pcm, str) or not re.fullmatch(r"[0-9]{4}", pcm):
        _add(errors, f"{where}.PCM", 'PCM is required: the POS capability matrix, e.g. "0000"')


def operation(errors: Errors, op: str, req: dict[str, Any], cfg: SimulatorConfig) -> None:
    """Validate the Request object of one operation."""
    common(errors, req)
    if op == "transaction":
        transaction(errors, req, cfg)
    elif op == "settlement" and req.get("settlementtype", "S") not in SETTLEMENT_TYPES:
        _add(errors, "Request.SettlementType", "unknown SettlementType")
    elif op == "reprintreceipt" and req.get("reprinttype", "2") not in ("1", "2"):
        _add(errors, "Request.ReprintType", 'ReprintType must be "1" or "2"')
    elif op == "querycard" and req.get("querycardtype", "0") not in QUERYCARD_TYPES:
        _add(errors, "Request.QueryCardType", "unknown QueryCardType")


def envelope(body: Any, op: str, is_async: bool, cfg: SimulatorConfig) -> Errors:
    """Validate the whole body {Request, Notification} (keys already lower-cased)."""
    errors: Errors = {}
    if not isinstance(body, dict):
        _add(errors, "$", "body must be a JSON object")
        return errors
    req = body.get("request")
    if not isinstance(req, dict):
        _add(errors, "Request", "Request object is required")
    else:
        operation(errors, op, req, cfg)
    note = body.get("notification")
    if note is not None and not isinstance(note, dict):
        _add(errors, "Notification", "Notification must be an object")
    elif is_async:
        uri = (note or {}).get("uri")
        if not uri:
            _add(errors, "Notification.Uri", "Notification.Uri is required for async requests")
        elif not uri_allowed(uri, cfg.allow_http):
            _add(errors, "Notification.Uri", "Notification.Uri must be an absolute https URI")
    if (
        isinstance(note, dict)
        and note.get("authorizationheader") is not None
        and not isinstance(note.get("authorizationheader"), str)
    ):
        _add(errors, "Notification.AuthorizationHeader", "AuthorizationHeader must be a string")
    return errors


def sendkey(body: Any) -> Errors:
    """Validate {Request: {Key, Data}} of sendkey."""
    errors: Errors = {}
    req = body.get("request") if isinstance(body, dict) else None
    if not isinstance(req, dict):
        _add(errors, "Request", "Request object is required")
        return errors
    if req.get("key") not in ("0", "1", "2", "3"):
        _add(errors, "Request.Key", 'Key must be "0", "1", "2" or "3"')
    data = req.get("data", "")
    if data is not None and (not isinstance(data, str) or len(data) > 60):
        _add(errors, "Request.Data", "Data must be a string of at most 60 characters")
    return errors


def token_request(body: Any) -> Errors:
    """Validate {secret, posName, posVersion, posId, posVendorId} (keys lower-cased)."""
    errors: Errors = {}
    if not isinstance(body, dict):
        _add(errors, "$", "body must be a JSON object")
        return errors
    for key, name in (("posname", "posName"), ("posversion", "posVersion")):
        if not isinstance(body.get(key), str) or not body[key].strip():
            _add(errors, name, f"{name} is required")
    for key, name in (("posid", "posId"), ("posvendorid", "posVendorId")):
        if not is_uuid(body.get(key)):
            _add(errors, name, f"{name} must be a UUID")
    if not isinstance(body.get("secret"), str) or not body["secret"]:
        _add(errors, "secret", "secret is required")
    return errors
