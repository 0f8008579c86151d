"""Display events: the PIN pad screen as the POS sees it (reference §5)."""

from __future__ import annotations

from typing import Any

LINES = 2
WIDTH = 20


def screen(
    line1: str,
    line2: str = "",
    *,
    cancel: bool = False,
    yes: bool = False,
    no: bool = False,
    auth: bool = False,
    ok: bool = False,
    input_type: str = "0",
    graphic: str = " ",
) -> dict[str, Any]:
    """Build a display Response with centred lines padded to LineLength."""
    return {
        "NumberOfLines": LINES,
        "LineLength": WIDTH,
        "DisplayText": [line1[:WIDTH].center(WIDTH), line2[:WIDTH].center(WIDTH)],
        "CancelKeyFlag": cancel,
        "AcceptYesKeyFlag": yes,
        "DeclineNoKeyFlag": no,
        "AuthoriseKeyFlag": auth,
        "OKKeyFlag": ok,
        "InputType": input_type,
        "GraphicCode": graphic,
        "PurchaseAnalysisData": {},
    }


def present_card() -> dict[str, Any]:
    """First screen of a card transaction."""
    return screen("PRESENT CARD", cancel=True, graphic="3")


def select_account() -> dict[str, Any]:
    """Account selection screen."""
    return screen("SELECT ACCOUNT", "CHQ SAV CR", cancel=True, graphic="4")


def enter_pin() -> dict[str, Any]:
    """PIN entry screen."""
    return screen("ENTER PIN", cancel=True, graphic="5")


def processing() -> dict[str, Any]:
    """Waiting for the host; cancel is not possible."""
    return screen("PROCESSING", "PLEASE WAIT", graphic="0")


def signature_check() -> dict[str, Any]:
    """Operator question: does the signature match."""
    return screen("SIGNATURE OK?", "YES / NO", yes=True, no=True, graphic="1")


def input_prompt() -> dict[str, Any]:
    """Operator input (free text sent as sendkey Data)."""
    return screen("ENTER REFERENCE", cancel=True, ok=True, input_type="1", graphic="2")


def final(text: str, line2: str = "") -> dict[str, Any]:
    """Final screen: APPROVED / DECLINED / TXN CANCELLED."""
    return screen(text, line2, graphic="6")
