"""Reading what the Bitrix24 simulator recorded, through the tests' `ctl` fixture.

`ctl(method, path, body=None)` calls the simulator's control API (`/_sim/...`) and returns the
decoded JSON (see tests/bitrix_fixtures.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.helpers.waiting import wait_for

Ctl = Callable[..., Any]


def handler_call(ctl: Ctl, workflow_id: str, timeout: float = 10.0) -> dict[str, Any]:
    """The simulator's POST of this workflow's robot (or activity) handler call, once the app
    has answered it: the outbound log entry with the form sent, the status and the answer."""

    def answered() -> dict[str, Any] | None:
        for entry in ctl("GET", "outbound"):
            ours = entry["kind"] in ("robot", "activity") and workflow_id in str(entry["form"])
            if ours and entry["status"] is not None:
                return entry
        return None

    return wait_for(answered, timeout, f"an answered handler call of {workflow_id}", 0.05)


def workflow_returns(workflow: dict[str, Any]) -> dict[str, Any]:
    """The values the app sent back to a workflow, over every step, keys lower-cased."""
    return {k.lower(): v for step in workflow["returns"].values() for k, v in step.items()}


def invoice_payments(ctl: Ctl, invoice_id: int) -> list[dict[str, Any]]:
    """The portal's payments (crm.item.payment) of one invoice."""
    return [p for p in ctl("GET", "crm")["payments"] if int(p["entityId"]) == invoice_id]
