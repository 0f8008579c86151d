"""The Bitrix24 simulator as the tests drive it: the `ctl` call over its control client, and
readers of what it recorded.

`ctl(method, path, body=None)` calls the simulator's control API (`/_sim/...`) and returns the
decoded JSON of any answer below 500, so a test can look at a refusal's error too. The `ctl`
fixture (tests/bitrix_fixtures.py) is one over the `b24` simulator's Bitrix24Control.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from simulators.bitrix24 import Bitrix24Control, Bitrix24Simulator
from simulators.control_client import ControlClient
from tests.helpers.waiting import wait_for

Ctl = Callable[..., Any]
CONTROL_TIMEOUT = 30.0  # seconds: an install or a robot run waits for the app's answer


def ctl_over(control: ControlClient) -> Ctl:
    """`ctl(method, path, body=None)` over a control client: the decoded JSON of the answer,
    4xx included; a 5xx fails the test."""

    def ctl(method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = control.request(method, path, body, check=False)
        assert response.status_code < 500, response.text
        return response.json()

    return ctl


def b24_ctl(sim: Bitrix24Simulator, method: str, path: str, body: dict | None = None) -> Any:
    """One `ctl` call to a Bitrix24 simulator that no `ctl` fixture serves (a second portal)."""
    with Bitrix24Control(sim.urls["portal"], timeout=CONTROL_TIMEOUT) as control:
        return ctl_over(control)(method, path, body)


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
