"""Fixtures: an in-process Linkly simulator on a free port, a POS client, a webhook receiver."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from simulators.linkly import LinklySimulator, SimulatorConfig
from tests.helpers.pos import RawHttpPos
from tests.helpers.receivers import JsonEventReceiver


@pytest.fixture
def sim_config() -> SimulatorConfig:
    """Fast options: tiny cardholder delay, short timeouts, http webhooks allowed."""
    return SimulatorConfig(
        username="user",
        password="pass",
        cardholder_delay=0.05,
        allow_http=True,
        input_timeout=5.0,
        operation_delay=0.02,
        processing_delay=0.05,
        notify_timeout=2.0,
    )


@pytest.fixture
def sim(sim_config: SimulatorConfig) -> Iterator[LinklySimulator]:
    """A running simulator with PIN pad "1" (pair code 111111)."""
    simulator = LinklySimulator(sim_config, pair_code="111111")
    simulator.start(host="127.0.0.1", port=0)
    yield simulator
    simulator.stop()


@pytest.fixture
def pos(sim: LinklySimulator) -> RawHttpPos:
    """A POS paired with PIN pad 1, holding a valid token."""
    return RawHttpPos(sim.base_url, "111111")


@pytest.fixture
def receiver() -> Iterator[JsonEventReceiver]:
    """A webhook endpoint recording notifications."""
    rec = JsonEventReceiver()
    yield rec
    rec.close()


@pytest.fixture
def note(receiver: JsonEventReceiver) -> dict:
    """A Notification block pointing at the receiver, with templated URI and a bearer secret."""
    return {
        "Uri": receiver.base_url + "/notify/{{sessionid}}/{{type}}",
        "AuthorizationHeader": "Bearer hook-secret",
    }
