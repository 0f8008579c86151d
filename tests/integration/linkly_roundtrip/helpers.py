"""What the roundtrip tests share: the simulator's account, its control API, event checks."""

from __future__ import annotations

from typing import Any

from bizproc_app.linkly import Notification, TransactionResult, parse_notification
from simulators.linkly import LinklyControl
from tests.helpers.pos import Purchase

USERNAME = "sim-user"
PASSWORD = "sim-pass"
PAIR_CODE = "123456"
POS_VENDOR_ID = "6f0d3a0e-5a4b-4c1e-9a57-3c1d1b9c2f10"
TOKEN_PREFIX = "linkly:token:"
TOKEN_PATH = "/v1/tokens/cloudpos"


class PadOneControl(LinklyControl):
    """The simulator's control API, aimed at PIN pad 1: faults arm for its next transaction and
    sessions list its own, unless told otherwise."""

    def arm(self, fault: str, **spec: Any) -> dict[str, Any]:
        """Arm a fault on PIN pad 1 for its next transaction (unless spec says otherwise)."""
        return super().arm(fault, **{"pinpad": "1", "ops": ["transaction"], **spec})

    def sessions(self, pinpad: str | None = "1") -> list[dict[str, Any]]:
        """PIN pad 1's sessions (every pad's with pinpad=None)."""
        return super().sessions(pinpad)

    def patch_pad(self, pad_id: str = "1", **changes: Any) -> dict[str, Any]:
        """Change PIN pad 1 (mode, cardholder_delay, account, logged_on)."""
        return self.change_pinpad(pad_id, **changes)


def parsed(events: list[dict[str, Any]]) -> list[Notification]:
    return [parse_notification(e["body"]) for e in events]


def check_envelopes(events: list[dict[str, Any]], p: Purchase) -> list[Notification]:
    """Every event carries our Authorization header, our session id (in the URI and body)."""
    assert events, "no notification received"
    notes = parsed(events)
    for event, note in zip(events, notes, strict=True):
        assert event["authorization"] == p.auth
        assert event["path"] == f"/linkly/{p.session_id}/{note.type}"
        assert note.session_id == p.session_id
    return notes


def final_of(notes: list[Notification]) -> TransactionResult:
    finals = [n for n in notes if n.is_final]
    assert len(finals) == 1, [n.type for n in notes]
    assert notes[-1] is finals[0], "the final event must come last"
    result = finals[0].response
    assert isinstance(result, TransactionResult)
    return result
