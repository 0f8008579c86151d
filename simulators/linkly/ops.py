"""logon, status, settlement, reprintreceipt (and querycard's response) — reference §9."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import display
from .codes import pad20, text_for
from .outcome import ACCOUNT_DIGIT, CARDS, now_iso, receipt, receipt_lines, transaction_response

if TYPE_CHECKING:
    from .engine import Engine
    from .session import Session

PINPAD_VERSION = "SIM 1.0.0"
TITLES = {"logon": "LOGON", "settlement": "SETTLEMENT", "reprintreceipt": "REPRINT"}


def base(s: Session, code: str, success: bool, text: str | None = None) -> dict[str, Any]:
    """Fields every non-transaction response has."""
    return {
        "Merchant": s.request.get("merchant", "00"),
        "Success": success,
        "ResponseCode": code,
        "ResponseText": pad20(text or text_for(code)),
    }


def failure(s: Session, code: str, text: str | None = None) -> dict[str, Any]:
    """An unsuccessful final response shaped for the session's operation."""
    if s.op == "transaction":
        return transaction_response(s, code, False, None, text=text)
    if s.op == "querycard":
        return querycard_response(s, code, False, None, text)
    return base(s, code, False, text)


def querycard_response(
    s: Session, code: str, success: bool, account: str | None, text: str | None = None
) -> dict[str, Any]:
    """Response of querycard (tracks masked)."""
    card = CARDS.get(account or "")
    track2 = f"{card['Pan'].replace('.', '0')}=2812" if card else ""
    return {
        **base(s, code, success, text),
        "Track1": "",
        "Track2": track2,
        "Track3": "",
        "IsTrack1Available": False,
        "IsTrack2Available": bool(card),
        "IsTrack3Available": False,
        "CardName": card["CardName"] if card else "00",
        "AccountType": ACCOUNT_DIGIT.get(account or "", " "),
        "PurchaseAnalysisData": {},
    }


def status_response(s: Session) -> dict[str, Any]:
    """Response of status (StatusType 0)."""
    pad = s.pinpad
    flags = [
        "Tipping",
        "PreAuth",
        "Completions",
        "CashOut",
        "Refund",
        "Balance",
        "Deposit",
        "Voucher",
        "Moto",
        "AutoCompletion",
        "EFB",
        "EMV",
        "Training",
        "Withdrawal",
        "Transfer",
        "StartCash",
    ]
    on = {"CashOut", "Refund", "EMV", "Balance"}
    return {
        **base(s, "00", True),
        "AIIC": "560192",
        "NII": 0,
        "Catid": pad.catid,
        "Caid": pad.caid,
        "Timeout": 0,
        "LoggedOn": pad.logged_on,
        "PinPadSerialNumber": pad.serial,
        "PinPadVersion": PINPAD_VERSION,
        "BankCode": "S",
        "BankDescription": "LINKLY SIMULATOR",
        "KVC": "",
        "SafCount": 0,
        "NetworkType": "3",
        "HardwareSerial": pad.serial,
        "RetailerName": "SIMULATED MERCHANT",
        "OptionsFlags": {f: f in on for f in flags},
        "SafCreditLimit": 0,
        "SafDebitLimit": 0,
        "MaxSaf": 0,
        "KeyHandlingScheme": "1",
        "CashoutLimit": 50000,
        "RefundLimit": 999999999,
        "CpatVersion": "000001",
        "NameTableVersion": "000001",
        "TerminalCommsType": "2",
        "CardMisreadCount": 0,
        "TotalMemoryInTerminal": 0,
        "FreeMemoryInTerminal": 0,
        "EftTerminalType": "PCEFTPOSVirtualPinpad",
        "NumAppsInTerminal": 1,
        "NumLinesOnDisplay": display.LINES,
        "HardwareInceptionDate": "2020-01-01T00:00:00",
    }


def send_receipts(e: Engine, s: Session, resp: dict[str, Any]) -> None:
    """Remember the customer receipt; emit receipt events as ReceiptAutoPrint says."""
    customer = receipt_lines(s, resp, "C")
    s.pinpad.last_receipt = customer
    mode = s.request.get("receiptautoprint", "0")
    if mode in ("0", "7"):
        e.emit(s, "receipt", receipt("C", customer))
    if mode == "0":
        e.emit(s, "receipt", receipt("M", receipt_lines(s, resp, "M")))


class OpFlow:
    """A short PIN pad job without card-holder steps."""

    def __init__(self, engine: Engine, s: Session) -> None:
        """Remember the engine and session."""
        self.e, self.s, self.pad = engine, s, s.pinpad

    def start(self) -> None:
        """Answer at once (status, offline) or show a screen and finish after operation_delay."""
        s, cfg = self.s, self.e.config
        if "pinpad_offline" in s.faults:
            self.e.finish(s, failure(s, cfg.offline_code))
        elif s.op == "status":
            self.e.finish(s, status_response(s))
        else:
            self.e.show(s, display.screen(TITLES[s.op], "PLEASE WAIT", graphic="0"))

            def run() -> None:
                with self.pad.lock:
                    if s.state == "running":
                        self.complete()

            s.timers.append(self.e.scheduler.call_later(cfg.operation_delay, run))

    def complete(self) -> None:
        """Produce the operation's result, its screen and receipts."""
        s, pad, req = self.s, self.pad, self.s.request
        if "no_response" in s.faults:
            self.e.show(s, display.final("NO RESPONSE"))
            self.e.finish(s, failure(s, self.e.config.no_response_code))
            return
        receipt_type = {"logon": "L", "settlement": "S"}.get(s.op)
        if s.op == "logon":
            pad.logged_on = req.get("logontype", " ") != "8"
            resp = {
                **base(s, "00", True),
                "PinPadVersion": PINPAD_VERSION,
                "Date": now_iso(),
                "Catid": pad.catid,
                "Caid": pad.caid,
                "Stan": pad.next_stan(),
                "PurchaseAnalysisData": {},
            }
        elif s.op == "settlement":
            batch = dict(pad.batch)
            if req.get("settlementtype", "S") == "S":
                pad.batch = {"count": 0, "net": 0}
            resp = {
                **base(s, "00", True),
                "SettlementData": f"COUNT={batch['count']:04d};NET={batch['net']:+d}",
            }
        else:
            last = pad.last_receipt
            resp = {
                **base(s, "00" if last else "E2", bool(last)),
                "ReceiptText": list(last or []) if req.get("reprinttype", "2") == "2" else [],
            }
        self.e.show(s, display.final(f"{TITLES[s.op]} {'OK' if resp['Success'] else 'FAILED'}"))
        if receipt_type and req.get("receiptautoprint", "0") == "0":
            lines = [
                "LINKLY SIMULATOR".center(24),
                f"{TITLES[s.op]} RESULT".center(24),
                f"TERMINAL ID   {pad.catid}",
                now_iso().replace("T", " "),
                resp.get("SettlementData", "LOGON OK"),
            ]
            self.e.emit(s, "receipt", receipt(receipt_type, lines))
        self.e.finish(s, resp)

    def on_key(self, key: str, data: str) -> bool:
        """No keys are enabled during these jobs."""
        return False

    def on_press(self, button: str) -> bool:
        """No buttons are enabled during these jobs."""
        return False
