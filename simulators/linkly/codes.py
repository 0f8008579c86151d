"""Response codes and their texts (AS2805 bank codes and PC-EFTPOS letter codes, reference §8)."""

from __future__ import annotations

TEXTS: dict[str, str] = {
    "00": "APPROVED",
    "01": "REFER TO ISSUER",
    "05": "DO NOT HONOUR",
    "08": "HONOUR WITH ID",
    "12": "INVALID TRANSACTION",
    "13": "INVALID AMOUNT",
    "14": "INVALID CARD",
    "33": "EXPIRED CARD",
    "41": "LOST CARD",
    "43": "STOLEN CARD",
    "51": "INSUFFICIENT FUNDS",
    "54": "EXPIRED CARD",
    "55": "INCORRECT PIN",
    "57": "NOT PERMITTED",
    "58": "NOT PERMITTED",
    "61": "OVER LIMIT",
    "75": "PIN TRIES EXCEEDED",
    "91": "ISSUER UNAVAILABLE",
    "96": "SYSTEM MALFUNCTION",
    "A5": "PINPAD OFFLINE",
    "PF": "PINPAD OFFLINE",
    "B3": "CLIENT OFFLINE",
    "B5": "INVALID AMOUNT",
    "B7": "INVALID TXN TYPE",
    "B8": "INVALID TXN REF",
    "BY": "PINPAD BUSY",
    "E2": "NO PREVIOUS TXN",
    "IP": "IN PROGRESS",
    "T1": "CARD UNSUPPORTED",
    "TF": "INIT REQUIRED",
    "TH": "PRINTER ERROR",
    "TI": "OPERATOR TIMEOUT",
    "TM": "OPERATOR CANCELLED",
    "U9": "NO RESPONSE",
    "X0": "NO RESPONSE",
    "X1": "LINK FAILURE",
    "Z5": "POWER FAILURE",
    "ZZ": "NOT PROCESSED",
}


def text_for(code: str) -> str:
    """Return the (unpadded) text of a response code; generic DECLINED for unlisted codes."""
    return TEXTS.get(code, "DECLINED")


def pad20(text: str) -> str:
    """Space-pad (or cut) a text to 20 characters, as ResponseText/CardType are."""
    return text[:20].ljust(20)
