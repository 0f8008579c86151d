"""The one port through which the payments service queues its follow-up work."""

from __future__ import annotations

from typing import Protocol


class Jobs(Protocol):
    """Follow-up work of payments; every job is idempotent, so a repeat or a lost one is safe."""

    def send_next(self, terminal_id: int) -> None:
        """Start the terminal's next queued payment if its PIN pad is free."""

    def recover(self, payment_id: str) -> None:
        """Resume a send that died, or ask Linkly for the outcome (the recovery GET)."""

    def reports(self, portal_id: int) -> None:
        """Write the portal's finished payments to Bitrix24."""

    def calls(self, portal_id: int) -> None:
        """Verify and start the portal's new robot calls."""
