"""The card-holder script of a transaction or querycard, driven by the scheduler."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import display
from .codes import text_for
from .ledger import LedgerEntry
from .outcome import DIGIT_ACCOUNT, new_rfn, now_iso, total_cents, transaction_response

if TYPE_CHECKING:
    from .engine import Engine
    from .session import Session

WEIGHTS = {"card": 0.3, "account": 0.2, "pin": 0.3, "processing": 0.2}


class CardFlow:
    """PRESENT CARD -> SELECT ACCOUNT -> ENTER PIN -> PROCESSING -> result (all under pad.lock)."""

    def __init__(self, engine: Engine, s: Session) -> None:
        """Plan the steps from the request."""
        self.e, self.s, self.cfg, self.pad = engine, s, engine.config, s.pinpad
        self.account: str | None = DIGIT_ACCOUNT.get(s.request.get("accounttype") or " ")
        self.card_read = False
        if s.op == "querycard":
            qtype = s.request.get("querycardtype", "0")
            self.steps = [] if qtype == "5" else ["card"]
            if qtype in ("1", "5"):
                self.steps.append("account")
        else:
            self.steps = ["card"] + ([] if self.account else ["account"]) + ["pin", "processing"]

    def start(self) -> None:
        """Begin the script (or fail at once for offline / logged-off PIN pads)."""
        if "pinpad_offline" in self.s.faults:
            self.end(self.cfg.offline_code, "TXN CANCELLED", "PINPAD OFFLINE")
        elif not self.pad.logged_on:
            self.end("TF", "TXN CANCELLED", "LOGON REQUIRED")
        else:
            self.next()

    def later(self, delay: float, fn: Callable[[], Any]) -> None:
        """Schedule fn under the pad lock unless the session finished meanwhile."""

        def run() -> None:
            with self.pad.lock:
                if self.s.state == "running":
                    fn()

        self.s.timers.append(self.e.scheduler.call_later(delay, run))

    def next(self) -> None:
        """Run the next planned step, or complete."""
        if not self.steps:
            self.complete()
            return
        step = self.steps.pop(0)
        if step == "processing":
            self.e.show(self.s, display.processing())
            auto = self.pad.mode == "auto"
            delay = self.pad.cardholder_delay * WEIGHTS[step] if auto else self.cfg.processing_delay
            self.later(delay, self.host)
            return
        screens = {
            "card": display.present_card,
            "account": display.select_account,
            "pin": display.enter_pin,
        }
        self.wait(step, screens[step](), auto=True)

    def wait(self, what: str, screen: dict[str, Any], auto: bool) -> None:
        """Show a screen and wait for input, a virtual cardholder action or the input timeout."""
        self.s.waiting = what
        self.e.show(self.s, screen)
        walk = self.s.faults.get("walk_away")
        timeout = float(walk.get("seconds", self.cfg.input_timeout)) if walk is not None else None
        self.later(timeout if timeout is not None else self.cfg.input_timeout, self.timeout)
        if auto and walk is None and self.pad.mode == "auto":
            self.later(self.pad.cardholder_delay * WEIGHTS[what], lambda: self.act(what, None))

    def act(self, what: str, value: Any) -> bool:
        """Complete the step being waited for; False if that is not the current step."""
        if self.s.waiting != what or self.s.state != "running":
            return False
        self.s.cancel_timers()
        self.s.waiting = None
        if what == "card":
            self.card_read = True
        elif what == "account":
            self.account = value or self.pad.account
        elif what == "signature":
            self.s.inputs.append({"prompt": "SIGNATURE OK?", "answer": "yes" if value else "no"})
            code = self.cents()
            self.settle(code if value else self.cfg.signature_declined_code, bool(value))
            return True
        elif what == "input":
            self.s.inputs.append({"prompt": "ENTER REFERENCE", "data": value})
            self.settle("00", True)
            return True
        self.next()
        return True

    def on_key(self, key: str, data: str) -> bool:
        """Handle a POS sendkey: 0 cancel/OK, 1 yes, 2 no, 3 auth (only when enabled)."""
        screen = self.pad.display or {}
        if key == "0":
            if self.s.waiting == "input" and data:
                return self.act("input", data)
            if screen.get("CancelKeyFlag") or screen.get("OKKeyFlag"):
                self.cancel()
                return True
            return False
        flag = {"1": "AcceptYesKeyFlag", "2": "DeclineNoKeyFlag"}.get(key)
        if flag and screen.get(flag):
            return self.act("signature", key == "1")
        return False

    def on_press(self, button: str) -> bool:
        """Handle a button on the virtual PIN pad page."""
        screen = self.pad.display or {}
        if button == "cancel":
            if screen.get("CancelKeyFlag"):
                self.cancel()
                return True
            return False
        if button == "card":
            return self.act("card", None)
        if button in ("chq", "sav", "crd"):
            return self.act("account", button.upper())
        if button in ("yes", "no"):
            return self.act("signature", button == "yes")
        if self.s.waiting in ("pin", "input"):
            if len(button) == 1 and button.isdigit():
                self.pad.keyed = (self.pad.keyed + button)[:60]
                return True
            if button == "clear":
                self.pad.keyed = ""
                return True
            if button == "ok":
                return self.act(self.s.waiting, self.pad.keyed)
        return False

    def cents(self) -> str:
        """The response code the development PIN pad derives from the amount's cents."""
        return f"{total_cents(self.s.request) % 100:02d}"

    def host(self) -> None:
        """The bank answers (after PROCESSING); may first ask an operator question."""
        if "no_response" in self.s.faults:
            self.end(self.cfg.no_response_code, "TXN CANCELLED", "NO RESPONSE")
            return
        code = self.cents()
        behaviour = self.cfg.amount_behaviours.get(code) if self.cfg.sandbox_behaviours else None
        if behaviour == "signature":
            self.wait("signature", display.signature_check(), auto=False)
        elif behaviour == "input":
            self.wait("input", display.input_prompt(), auto=False)
        else:
            if self.s.request.get("txntype") == "R" and not self.cfg.refund_cents_rule:
                code = "00"
            self.settle(code, code in self.cfg.approval_codes)

    def settle(self, code: str, success: bool) -> None:
        """Apply refund rules, record approvals in the ledger, send receipts and the result."""
        from .ops import querycard_response

        s, req = self.s, self.s.request
        if s.op == "querycard":
            self.finish(querycard_response(s, "00", True, self.account or self.pad.account))
            return
        if success and req.get("txntype") == "R":
            code = self.refund_code() or code
            success = code in self.cfg.approval_codes
        rfn = new_rfn() if success else None
        account = self.account or self.pad.account
        resp = transaction_response(s, code, success, account, rfn)
        if success and rfn:
            orig = (req.get("purchaseanalysisdata") or {}).get("rfn")
            self.e.ledger.record(
                LedgerEntry(
                    self.pad.id,
                    s.sid,
                    req.get("txnref", ""),
                    req.get("txntype", ""),
                    total_cents(req),
                    rfn,
                    code,
                    now_iso(),
                    orig if req.get("txntype") == "R" else None,
                    int(req.get("amtpurchase") or 0),
                    int(req.get("amtcash") or 0),
                    str((req.get("purchaseanalysisdata") or {}).get("opr") or ""),
                    str(resp["PurchaseAnalysisData"].get("REF") or ""),
                )
            )
            sign = -1 if req.get("txntype") == "R" else 1
            self.pad.batch["count"] += 1
            self.pad.batch["net"] += sign * total_cents(req)
        from .ops import send_receipts

        self.e.show(
            s,
            display.final("APPROVED" if success else "DECLINED", "" if success else text_for(code)),
        )
        send_receipts(self.e, s, resp)
        self.finish(resp)

    def refund_code(self) -> str | None:
        """Return a decline code if the refund's RFN is missing/unknown/over-refunded."""
        rfn = (self.s.request.get("purchaseanalysisdata") or {}).get("rfn")
        if not rfn:
            if self.cfg.refund_without_rfn == "allow":
                return None
            return self.cfg.refund_without_rfn_code
        verdict = self.e.ledger.reserve_refund(str(rfn), total_cents(self.s.request))
        return {"unknown": self.cfg.refund_unknown_rfn_code, "over": self.cfg.refund_over_code}.get(
            verdict
        )

    def complete(self) -> None:
        """All steps done without PROCESSING (querycard)."""
        self.settle("00", True)

    def cancel(self) -> None:
        """Operator or cardholder cancel."""
        self.end(self.cfg.cancel_code, "TXN CANCELLED", "", text=self.cfg.cancel_text)

    def timeout(self) -> None:
        """Nobody answered the current prompt in time."""
        self.end(self.cfg.timeout_code, "TXN CANCELLED", "TIMEOUT", text="OPERATOR TIMEOUT")

    def end(self, code: str, line1: str, line2: str, text: str | None = None) -> None:
        """Finish unsuccessfully with code (no ledger entry, no receipts)."""
        from .ops import querycard_response

        self.s.cancel_timers()
        self.s.waiting = None
        account = (self.account or self.pad.account) if self.card_read else None
        if self.s.op == "querycard":
            resp = querycard_response(self.s, code, False, None, text)
        else:
            resp = transaction_response(self.s, code, False, account, text=text)
        self.e.show(self.s, display.final(line1, line2))
        self.finish(resp)

    def finish(self, resp: dict[str, Any]) -> None:
        """Hand the final response to the engine."""
        self.e.finish(self.s, resp)
