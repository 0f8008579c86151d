"""What was actually charged and refunded: one entry per approved purchase/cash-out/refund."""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any


@dataclass
class LedgerEntry:
    """One approved money movement."""

    pinpad: str
    sessionId: str
    txnRef: str
    txnType: str
    amountCents: int
    rfn: str
    responseCode: str
    at: str
    originalRfn: str | None = None
    amtPurchase: int = 0
    amtCash: int = 0
    operator: str = ""  # the request's PAD OPR
    ref: str = ""  # the host reference returned in the response's PAD REF


class Ledger:
    """Thread-safe list of ledger entries with RFN lookup for matched refunds."""

    def __init__(self) -> None:
        """Start empty."""
        self._lock = threading.Lock()
        self._entries: list[LedgerEntry] = []
        self._by_rfn: dict[str, LedgerEntry] = {}
        self._refunded: dict[str, int] = {}

    def record(self, entry: LedgerEntry) -> None:
        """Add an approved entry."""
        entry.at = entry.at or datetime.now(UTC).isoformat()
        with self._lock:
            self._entries.append(entry)
            self._by_rfn[entry.rfn] = entry

    def reserve_refund(self, rfn: str, amount: int) -> str:
        """Return 'ok' (and reserve the amount), 'unknown' or 'over' for a refund against rfn."""
        with self._lock:
            original = self._by_rfn.get(rfn)
            if original is None or original.txnType == "R":
                return "unknown"
            if self._refunded.get(rfn, 0) + amount > original.amountCents:
                return "over"
            self._refunded[rfn] = self._refunded.get(rfn, 0) + amount
            return "ok"

    def entries(
        self, pinpad: str | None = None, txn_ref: str | None = None
    ) -> list[dict[str, Any]]:
        """Return entries, optionally filtered by PIN pad and TxnRef."""
        with self._lock:
            rows = list(self._entries)
        return [
            asdict(e)
            for e in rows
            if (pinpad is None or e.pinpad == pinpad) and (txn_ref is None or e.txnRef == txn_ref)
        ]

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._entries.clear()
            self._by_rfn.clear()
            self._refunded.clear()
