"""Request bodies for the Linkly simulator tests, and a raw call of its control API."""

from __future__ import annotations

from typing import Any

import requests

from simulators.linkly import LinklyControl

TIMEOUT = 10  # seconds


def core_pad(amount: Any) -> dict[str, str]:
    """The PAD tags every Linkly sample sends with a sale (the simulator requires them)."""
    cents = amount if isinstance(amount, int) and not isinstance(amount, bool) else 0
    return {"OPR": "1|Test clerk", "AMT": f"{max(cents, 0):07d}", "PCM": "0000"}


def purchase(amount: int = 1000, ref: str = "REF0001", **extra: Any) -> dict[str, Any]:
    """A camelCase purchase request body (Linkly's JS samples style)."""
    pad = {**core_pad(amount), **extra.pop("purchaseAnalysisData", {})}
    return {
        "request": {
            "txnType": "P",
            "amtPurchase": amount,
            "txnRef": ref,
            "merchant": "00",
            "application": "00",
            "currencyCode": "AUD",
            "purchaseAnalysisData": pad,
            **extra,
        }
    }


def control(base: str, method: str, path: str, json: Any = None) -> requests.Response:
    """Call the /_sim/ control API; return the response, whatever its status."""
    with LinklyControl(base, timeout=TIMEOUT) as client:
        return client.request(method, path, json, check=False)
