"""A client of the Linkly Cloud simulator's control API (`/_sim/...`, see api_control.py).

    with LinklyControl("http://127.0.0.1:8090") as linkly:
        linkly.change_pinpad("1", mode="interactive")
        linkly.arm("drop_response", pinpad="1", ops=["transaction"])
        entries = linkly.ledger(txn_ref="T0001")

Only `requests`: usable from the tests, the demo and the benchmark alike.
"""

from __future__ import annotations

from typing import Any

from simulators.control_client import ControlClient, ControlError

__all__ = ["ControlError", "LinklyControl"]


class LinklyControl(ControlClient):
    """PIN pads, options, faults, and what the simulator recorded (ledger, sessions, deliveries).

    PIN pad arguments default to "1", the pad every simulator starts with.
    """

    # Options

    def config(self) -> dict[str, Any]:
        """The current options."""
        return dict(self.call("GET", "config")["config"])

    def configure(self, **options: Any) -> dict[str, Any]:
        """Change options at run time (`casing="pascal"`, `input_timeout=60`, ...)."""
        return dict(self.call("PATCH", "config", options)["config"])

    # PIN pads

    def pinpads(self) -> list[dict[str, Any]]:
        """Every PIN pad: id, mode, delay, account, pair code, busy."""
        return list(self.call("GET", "pinpads")["pinpads"])

    def pinpad(self, pad_id: str = "1") -> dict[str, Any]:
        """One PIN pad."""
        return dict(self.call("GET", f"pinpads/{pad_id}"))

    def add_pinpad(self, **settings: Any) -> dict[str, Any]:
        """A new PIN pad (`mode`, `cardholder_delay`, `account`, `id`, `pair_code`); its summary
        holds its id and a fresh pair code."""
        return dict(self.call("POST", "pinpads", settings))

    def change_pinpad(self, pad_id: str = "1", **changes: Any) -> dict[str, Any]:
        """Change a PIN pad's `mode`, `cardholder_delay`, `account` or `logged_on`."""
        return dict(self.call("PATCH", f"pinpads/{pad_id}", changes))

    def new_pair_code(self, pad_id: str = "1", ttl: float | None = None) -> str:
        """Mint a pair code for the PIN pad (valid `ttl` seconds, else the configured time)."""
        body = {} if ttl is None else {"ttl": ttl}
        return str(self.call("POST", f"pinpads/{pad_id}/pair-code", body)["pair_code"])

    def pinpad_state(self, pad_id: str = "1") -> dict[str, Any]:
        """What the PIN pad shows and what it waits for (the virtual PIN pad page's state)."""
        return dict(self.call("GET", f"pinpads/{pad_id}/state"))

    def press(self, button: str, pad_id: str = "1") -> bool:
        """Press a button (card, chq, sav, crd, 0-9, clear, ok, cancel, yes, no); True when the
        PIN pad took it."""
        body = {"button": button}
        return bool(self.call("POST", f"pinpads/{pad_id}/press", body)["accepted"])

    # Faults

    def faults(self) -> list[dict[str, Any]]:
        """The armed faults."""
        return list(self.call("GET", "faults")["faults"])

    def arm(self, fault: str, **spec: Any) -> dict[str, Any]:
        """Arm a fault (`scope`, `pinpad`, `sessionId`, `ops`, `count`, `params`); its id is in
        the answer."""
        return dict(self.call("POST", "faults", {"fault": fault, **spec}))

    def disarm(self, fault_id: int | None = None) -> None:
        """Disarm one fault, or every fault."""
        self.call("DELETE", "faults" if fault_id is None else f"faults/{fault_id}")

    # Records

    def ledger(self, txn_ref: str | None = None, pinpad: str | None = None) -> list[dict[str, Any]]:
        """Approved charges and refunds, of one TxnRef or PIN pad when given."""
        params = {"txnRef": txn_ref, "pinpad": pinpad}
        return list(self.call("GET", "ledger", params=_given(params))["entries"])

    def sessions(self, pinpad: str | None = None) -> list[dict[str, Any]]:
        """Every session in short form, of one PIN pad when given."""
        return list(self.call("GET", "sessions", params=_given({"pinpad": pinpad}))["sessions"])

    def session(self, session_id: str) -> dict[str, Any]:
        """One session: request, faults, events, inputs, result."""
        return dict(self.call("GET", f"sessions/{session_id}"))

    def deliveries(
        self, session_id: str | None = None, kind: str | None = None
    ) -> list[dict[str, Any]]:
        """The notification delivery log, of one session and event type when given."""
        params = _given({"sessionId": session_id, "type": kind})
        return list(self.call("GET", "notifications", params=params)["deliveries"])

    def stats(self) -> dict[str, Any]:
        """Counts of PIN pads, sessions, ledger entries, secrets, tokens and API requests."""
        return dict(self.call("GET", "stats"))

    def reset(self) -> None:
        """Clear sessions, ledger, faults and deliveries (PIN pads are kept)."""
        self.call("POST", "reset")


def _given(params: dict[str, Any]) -> dict[str, Any]:
    """The query parameters that have a value."""
    return {k: v for k, v in params.items() if v is not None}
