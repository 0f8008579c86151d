"""PIN pads: identity, pair code, mode, live display and in-flight session."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

MODES = ("auto", "interactive")
ACCOUNTS = ("CHQ", "SAV", "CRD")


@dataclass
class PinPad:
    """One simulated PIN pad (virtual or 'hardware')."""

    id: str
    mode: str = "auto"
    cardholder_delay: float = 2.0
    account: str = "CRD"
    pair_code: str = ""
    pair_code_expires: float = 0.0
    pair_code_expires_at: float = 0.0
    logged_on: bool = True
    stan: int = 0
    current: Any = None
    display: dict[str, Any] | None = None
    display_at: float = 0.0
    last_receipt: list[str] | None = None
    last_result: dict[str, Any] | None = None
    keyed: str = ""
    paired: int = 0
    batch: dict[str, int] = field(default_factory=lambda: {"count": 0, "net": 0})
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    @property
    def catid(self) -> str:
        """Terminal id (8 chars)."""
        return f"LS{self.id:0>6}"[-8:]

    @property
    def caid(self) -> str:
        """Merchant id (15 chars)."""
        return f"SIMMERCHANT{self.id:0>4}"[-15:]

    @property
    def serial(self) -> str:
        """PIN pad serial number."""
        return f"VPP-{self.id:0>8}"

    def next_stan(self) -> int:
        """Return the next system trace audit number (1..999999)."""
        with self.lock:
            self.stan = self.stan % 999999 + 1
            return self.stan

    def summary(self) -> dict[str, Any]:
        """Return the public description used by the control API."""
        now = time.monotonic()
        return {
            "id": self.id,
            "mode": self.mode,
            "cardholder_delay": self.cardholder_delay,
            "account": self.account,
            "pair_code": self.pair_code,
            "pair_code_expires_in": max(0.0, round(self.pair_code_expires - now, 1)),
            "catid": self.catid,
            "caid": self.caid,
            "logged_on": self.logged_on,
            "busy": self.current is not None,
            "paired": self.paired,
            "session_id": self.current.sid if self.current is not None else None,
        }


class PinPadRegistry:
    """All PIN pads and their pair codes."""

    def __init__(self) -> None:
        """Start empty."""
        self._lock = threading.Lock()
        self._pads: dict[str, PinPad] = {}
        self._next = 1

    def create(self, ttl: float, pair_code: str | None = None, **settings: Any) -> PinPad:
        """Create a PIN pad with a fresh (or given) pair code."""
        for key in ("mode", "account"):
            allowed = MODES if key == "mode" else ACCOUNTS
            if key in settings and settings[key] not in allowed:
                raise ValueError(f"{key} must be one of {allowed}")
        with self._lock:
            pad_id = str(settings.pop("id", None) or self._next)
            if pad_id in self._pads:
                raise ValueError(f"PIN pad {pad_id} exists")
            while str(self._next) in self._pads or str(self._next) == pad_id:
                self._next += 1
            pad = PinPad(id=pad_id, **settings)
            self._pads[pad_id] = pad
        self.new_pair_code(pad, ttl, pair_code)
        return pad

    def new_pair_code(self, pad: PinPad, ttl: float, code: str | None = None) -> str:
        """Mint (or set) the pad's pair code, valid for ttl seconds."""
        with self._lock:
            taken = {p.pair_code for p in self._pads.values() if p is not pad}
            while code is None or code in taken:
                code = f"{secrets.randbelow(10**6):06d}"
            pad.pair_code = code
            pad.pair_code_expires = time.monotonic() + ttl
            pad.pair_code_expires_at = time.time() + ttl
        return code

    def redeem(self, code: str) -> PinPad | None:
        """Consume a valid, unexpired pair code; return its pad or None."""
        if not code:
            return None
        with self._lock:
            for pad in self._pads.values():
                if pad.pair_code == code:
                    if pad.pair_code_expires <= time.monotonic():
                        return None
                    pad.pair_code = ""
                    pad.paired += 1
                    return pad
        return None

    def get(self, pad_id: str) -> PinPad | None:
        """Return a pad by id."""
        with self._lock:
            return self._pads.get(str(pad_id))

    def all(self) -> list[PinPad]:
        """Return every pad."""
        with self._lock:
            return list(self._pads.values())
