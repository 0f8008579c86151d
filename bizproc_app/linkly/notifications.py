"""Async notification bodies (display, receipt, final transaction) parsed into models."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bizproc_app.linkly._parse import (
    as_dict,
    ci_get,
    flag,
    opt_int,
    opt_text,
    str_map,
    text,
    text_lines,
)
from bizproc_app.linkly.errors import ProtocolError
from bizproc_app.linkly.models import DEFAULT_CANCEL_CODES, TransactionResult


@dataclass(frozen=True)
class DisplayEvent:
    """What the PIN pad shows, and which keys the POS may send now."""

    lines: list[str]
    cancel_key: bool
    accept_yes_key: bool
    decline_no_key: bool
    authorise_key: bool
    ok_key: bool
    input_type: str | None
    graphic_code: str | None
    number_of_lines: int | None
    line_length: int | None
    raw: dict[str, Any] = field(repr=False, compare=False)

    @property
    def text(self) -> str:
        """The non-blank display lines joined by newlines."""
        return "\n".join(line for line in self.lines if line)

    @property
    def wants_input(self) -> bool:
        """True when the PIN pad asks the POS for input (InputType other than '0')."""
        return self.input_type not in (None, "0")

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DisplayEvent:
        """Parse a display Response object in either casing; lines are trimmed."""
        d = as_dict(data, "display event")
        return cls(
            lines=text_lines(d.get("displaytext")),
            cancel_key=flag(d.get("cancelkeyflag")),
            accept_yes_key=flag(d.get("acceptyeskeyflag")),
            decline_no_key=flag(d.get("declinenokeyflag")),
            authorise_key=flag(d.get("authorisekeyflag")),
            ok_key=flag(d.get("okkeyflag")),
            input_type=opt_text(d.get("inputtype")),
            graphic_code=opt_text(d.get("graphiccode")),
            number_of_lines=opt_int(d.get("numberoflines")),
            line_length=opt_int(d.get("linelength")),
            raw=dict(data),
        )


@dataclass(frozen=True)
class ReceiptEvent:
    """A receipt sent to the POS; lines keep their left padding (receipt layout)."""

    type: str
    lines: list[str]
    is_preprint: bool
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ReceiptEvent:
        """Parse a receipt Response object in either casing."""
        d = as_dict(data, "receipt event")
        return cls(
            type=text(d.get("type")).upper(),
            lines=text_lines(d.get("receipttext"), keep_left=True),
            is_preprint=flag(d.get("ispreprint")),
            raw=dict(data),
        )


NotificationPayload = DisplayEvent | ReceiptEvent | TransactionResult | dict[str, Any]


@dataclass(frozen=True)
class Notification:
    """One notification POSTed by Linkly to the POS's Notification.Uri."""

    session_id: str
    type: str
    response: NotificationPayload
    raw: dict[str, Any] = field(repr=False, compare=False)

    @property
    def is_final(self) -> bool:
        """True for the final transaction result."""
        return isinstance(self.response, TransactionResult)


def parse_notification(
    body: Mapping[str, Any], *, cancel_codes: frozenset[str] = DEFAULT_CANCEL_CODES
) -> Notification:
    """Parse {SessionId, ResponseType, Response} in either casing into a Notification.

    The caller must authenticate the callback (AuthorizationHeader) before trusting it, and
    must not let a late display event overwrite a final state.
    """
    d = as_dict(body, "notification")
    session_id = text(d.get("sessionid"))
    kind = text(d.get("responsetype")).lower()
    if not session_id or not kind:
        raise ProtocolError("Linkly notification lacks SessionId or ResponseType")
    payload = ci_get(body, "response")  # original casing, so `raw` keeps Linkly's keys
    response: NotificationPayload
    if kind == "display":
        response = DisplayEvent.from_json(_require(payload, kind))
    elif kind == "receipt":
        response = ReceiptEvent.from_json(_require(payload, kind))
    elif kind == "transaction":
        response = TransactionResult.from_json(_require(payload, kind), cancel_codes=cancel_codes)
    else:
        response = str_map(payload)
    return Notification(session_id=session_id, type=kind, response=response, raw=dict(body))


def _require(payload: Any, kind: str) -> Mapping[str, Any]:
    if not isinstance(payload, dict):
        raise ProtocolError(f"Linkly {kind} notification has no Response object")
    return payload
