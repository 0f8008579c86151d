"""Transaction results: the §7 response object and the receipt text."""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime
from typing import Any

from .codes import pad20, text_for
from .session import Session

ACCOUNT_DIGIT = {"CHQ": "1", "CRD": "2", "SAV": "3"}
DIGIT_ACCOUNT = {v: k for k, v in ACCOUNT_DIGIT.items()}
ACCOUNT_NAME = {"CHQ": "CHEQUE", "SAV": "SAVINGS", "CRD": "CREDIT"}
CARDS = {
    "CRD": {"CardType": "VISA", "CardName": "04", "Pan": "492181......1234"},
    "CHQ": {"CardType": "DEBIT", "CardName": "01", "Pan": "560254......5678"},
    "SAV": {"CardType": "DEBIT", "CardName": "01", "Pan": "560254......5678"},
}
TXN_NAMES = {"P": "PURCHASE", "R": "REFUND", "C": "CASH OUT"}


def total_cents(req: dict[str, Any]) -> int:
    """Return AmtPurchase + AmtCash of a (lower-cased) request."""
    return int(req.get("amtpurchase") or 0) + int(req.get("amtcash") or 0)


def now_iso() -> str:
    """Local bank date-time, ISO without fraction."""
    return datetime.now().replace(microsecond=0).isoformat()


def new_rfn() -> str:
    """A fresh reference for follow-up transactions (opaque, 16 chars)."""
    return uuid.uuid4().hex[:16].upper()


def transaction_response(
    s: Session,
    code: str,
    success: bool,
    account: str | None = None,
    rfn: str | None = None,
    text: str | None = None,
) -> dict[str, Any]:
    """Build the final transaction Response (PascalCase); account None = card never read."""
    req, pad = s.request, s.pinpad
    card = CARDS.get(account or "", {"CardType": "", "CardName": "00", "Pan": ""})
    at_host = account is not None and code not in ("TM", "TI")
    pad_data: dict[str, str] = {"AMT": f"{total_cents(req):09d}"}
    if rfn:
        pad_data["RFN"] = rfn
    if at_host:  # the host's reference, which Linkly asks the POS to record against the sale
        pad_data["REF"] = f"{secrets.randbelow(10**12):012d}"
    return {
        "TxnType": req.get("txntype", " "),
        "Merchant": req.get("merchant", "00"),
        "CardType": pad20(card["CardType"]),
        "CardName": card["CardName"],
        "RRN": f"{secrets.randbelow(10**12):012d}" if at_host else "",
        "DateSettlement": datetime.now().strftime("%Y-%m-%dT00:00:00"),
        "AmtCash": int(req.get("amtcash") or 0),
        "AmtPurchase": int(req.get("amtpurchase") or 0),
        "AmtTip": 0,
        "AuthCode": secrets.randbelow(999_999) + 1 if success else 0,
        "TxnRef": req.get("txnref", ""),
        "Pan": card["Pan"].ljust(20) if card["Pan"] else "",
        "DateExpiry": "",
        "Track2": "",
        "AccountType": ACCOUNT_DIGIT.get(account or "", " "),
        "TxnFlags": {
            "Offline": "0",
            "ReceiptPrinted": "0",
            "CardEntry": "C" if account else " ",
            "CommsMethod": "0",
            "Currency": "0",
            "PayPass": "1" if account else "0",
            "UndefinedFlag6": "0",
            "UndefinedFlag7": "0",
        },
        "BalanceReceived": False,
        "AvailableBalance": 0,
        "ClearedFundsBalance": 0,
        "Success": success,
        "ResponseCode": code,
        "ResponseText": pad20(text or text_for(code)),
        "Date": now_iso(),
        "Catid": pad.catid,
        "Caid": pad.caid,
        "Stan": pad.next_stan(),
        "PurchaseAnalysisData": pad_data,
    }


def money(cents: int) -> str:
    """Format cents as $1,234.56."""
    return f"${cents // 100:,}.{cents % 100:02d}"


def receipt_lines(s: Session, resp: dict[str, Any], copy: str) -> list[str]:
    """Return the receipt text lines for a customer ('C') or merchant ('M') copy."""
    req, pad = s.request, s.pinpad
    account = DIGIT_ACCOUNT.get(resp["AccountType"], "")
    lines = [
        "LINKLY SIMULATOR".center(24),
        ("CUSTOMER COPY" if copy == "C" else "MERCHANT COPY").center(24),
        f"TERMINAL ID   {pad.catid}",
        f"MERCHANT ID   {pad.caid}",
        resp["Date"].replace("T", " "),
        f"TXN REF       {resp['TxnRef']}",
        f"{TXN_NAMES.get(resp['TxnType'], 'TRANSACTION'):<14}{req.get('currencycode', 'AUD')} "
        f"{money(resp['AmtPurchase'])}",
    ]
    if resp["AmtCash"]:
        lines.append(f"CASH          AUD {money(resp['AmtCash'])}")
    lines += [
        f"TOTAL         AUD {money(resp['AmtPurchase'] + resp['AmtCash'])}",
        f"CARD          {resp['CardType'].strip()}",
        f"PAN           {resp['Pan'].strip()}",
        f"ACCOUNT       {ACCOUNT_NAME.get(account, '')}",
        f"AUTH CODE     {resp['AuthCode']:06d}",
        f"STAN          {resp['Stan']:06d}",
        f"RRN           {resp['RRN']}",
        f"({resp['ResponseCode']}) {'APPROVED' if resp['Success'] else 'DECLINED'}",
        resp["ResponseText"].strip(),
    ]
    return lines


def receipt(kind: str, lines: list[str]) -> dict[str, Any]:
    """Build a receipt event Response."""
    return {"Type": kind, "ReceiptText": lines, "IsPrePrint": False}
