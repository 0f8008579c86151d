"""Fixtures: a running Bitrix24 simulator whose app is a loopback form-recording receiver."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from simulators.bitrix24 import Bitrix24Control, Bitrix24Simulator, SimConfig
from tests.helpers.bitrix24 import CONTROL_TIMEOUT, ctl_over
from tests.helpers.receivers import FormPostReceiver


class Client:
    """Thin test client for the simulator's REST and control APIs."""

    def __init__(self, sim: Bitrix24Simulator) -> None:
        self.sim = sim
        self.urls = sim.urls
        self.http = requests.Session()
        self.control = Bitrix24Control(self.urls["portal"], self.http, CONTROL_TIMEOUT)
        self.ctl = ctl_over(self.control)  # ctl(verb, path, body=None): the answer's JSON
        self.token = self.issue(1)["access_token"]

    def issue(self, user_id: int = 1, **extra: Any) -> dict[str, Any]:
        """A fresh token pair for a user."""
        return self.ctl("POST", "token", {"user_id": user_id, **extra})

    def call(self, method: str, params: dict | None = None, token: str | None = None):
        """POST JSON to /rest/<method>; return the response."""
        body = {"auth": token or self.token, **(params or {})}
        return self.http.post(self.urls["rest"] + method, json=body)

    def ok(self, method: str, params: dict | None = None, token: str | None = None) -> Any:
        """Call and return `result`, asserting success."""
        r = self.call(method, params, token)
        assert r.status_code == 200, r.text
        return r.json()["result"]


@pytest.fixture
def receiver() -> Iterator[FormPostReceiver]:
    """The app under test (records POSTs)."""
    rec = FormPostReceiver()
    yield rec
    rec.close()


@pytest.fixture
def make_sim(receiver: FormPostReceiver) -> Iterator[Callable[..., Client]]:
    """Factory: start a simulator with options; its app URL is the receiver."""
    sims: list[Bitrix24Simulator] = []

    def factory(**options: Any) -> Client:
        cfg = SimConfig(app_url=receiver.base_url, **options)
        sim = Bitrix24Simulator(cfg)
        sim.start("127.0.0.1", 0)
        sims.append(sim)
        return Client(sim)

    yield factory
    for sim in sims:
        sim.stop()


@pytest.fixture
def b24(make_sim: Callable[..., Client]) -> Client:
    """A default simulator (rate limit off so tests are independent of timing)."""
    return make_sim(rate_limit=False)


ROBOT = {
    "CODE": "pos_send",
    "AUTH_USER_ID": 1,
    "USE_SUBSCRIPTION": "Y",
    "NAME": {"en": "Send to POS"},
    "PROPERTIES": {
        "amount": {
            "Name": {"en": "Amount"},
            "Type": "double",
            "Default": "{=Document:OPPORTUNITY}",
        },
        "invoice_id": {"Name": {"en": "Invoice"}, "Type": "int"},
    },
    "RETURN_PROPERTIES": {
        "status": {"Name": {"en": "Status"}, "Type": "string"},
        "approved": {"Name": {"en": "Approved"}, "Type": "bool"},
        "amount": {"Name": {"en": "Amount"}, "Type": "double"},
        "attempts": {"Name": {"en": "Attempts"}, "Type": "int"},
    },
}


@pytest.fixture
def robot(b24: Client, receiver: FormPostReceiver) -> dict[str, Any]:
    """Register the POS robot (handler on the receiver) and place it on EXECUTING."""
    spec = {**ROBOT, "HANDLER": receiver.base_url + "/b24/robot/pos-send"}
    assert b24.ok("bizproc.robot.add", spec) is True
    b24.ctl(
        "POST",
        "automation",
        {"stage_id": "EXECUTING", "code": "pos_send", "properties": {"invoice_id": 7}},
    )
    return spec
