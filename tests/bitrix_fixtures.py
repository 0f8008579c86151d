"""Fixtures: the app served over loopback, driven by the Bitrix24 simulator, real RQ workers."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from rq import SimpleWorker
from werkzeug.serving import make_server

from bizproc_app.payments.queues import QUEUE_NAMES, SERIALIZER, queue
from simulators.bitrix24 import Bitrix24Control, Bitrix24Simulator, SimConfig
from tests.helpers.bitrix24 import CONTROL_TIMEOUT, Ctl, ctl_over
from tests.helpers.loopback import free_port

CLIENT_ID = "local.5f0c3a7e12345.00000001"
CLIENT_SECRET = "test-client-secret-value-0123456789"


@pytest.fixture
def app_port() -> int:
    """The port the app will listen on (the simulator must know it first)."""
    return free_port()


@pytest.fixture
def b24(app_port: int) -> Iterator[Bitrix24Simulator]:
    """A simulated portal and OAuth server, with Bitrix24's default rate limits on."""
    sim = Bitrix24Simulator(
        SimConfig(
            app_url=f"http://127.0.0.1:{app_port}", client_id=CLIENT_ID, client_secret=CLIENT_SECRET
        )
    )
    sim.urls = sim.start("127.0.0.1", port=0)
    yield sim
    sim.stop()


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    """More configuration for served_app (other test packages override this)."""
    return {}


@pytest.fixture
def served_app(make_app, b24, app_port: int, app_overrides) -> Iterator[Any]:
    """The app, configured for the simulator, served on app_port in a thread."""
    app = make_app(
        APP_BASE_URL=f"http://127.0.0.1:{app_port}",
        BITRIX_OAUTH_URL=b24.urls["oauth"],
        BITRIX_CLIENT_ID=CLIENT_ID,
        BITRIX_CLIENT_SECRET=CLIENT_SECRET,
        BITRIX_ALLOW_HTTP=True,
        **app_overrides,
    )
    server = make_server("127.0.0.1", app_port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app
    server.shutdown()
    server.server_close()


@pytest.fixture
def b24_control(b24) -> Iterator[Bitrix24Control]:
    """The simulator's control client."""
    with Bitrix24Control(b24.urls["portal"], timeout=CONTROL_TIMEOUT) as control:
        yield control


@pytest.fixture
def ctl(b24_control: Bitrix24Control) -> Ctl:
    """Call the simulator's control API; returns the decoded JSON (of a 4xx answer too)."""
    return ctl_over(b24_control)


@pytest.fixture
def run_jobs(served_app, redis_url: str) -> Callable[[], int]:
    """Drain the queues with a real RQ worker inside the app context; return jobs it found."""

    def drain() -> int:
        conn = redis.Redis.from_url(redis_url)
        try:
            queues = [queue(n, conn) for n in QUEUE_NAMES]
            waiting = sum(q.count for q in queues)
            worker = SimpleWorker(queues, connection=conn, serializer=SERIALIZER)
            with served_app.app_context():
                worker.work(burst=True)
            return waiting
        finally:
            conn.close()

    return drain


def frame_token(
    app: Any,
    control_url: str,
    portal_id: int,
    user_id: int,
    *,
    admin: bool = False,
    entity: tuple[str, int] | None = None,
) -> str:
    """A frame token as the placement page issues it: the user's genuine simulator tokens kept
    for the session, bound to a deal or invoice card (`("deal", 7)`) or to none (settings)."""
    from bizproc_app.bitrix import PortalTokens
    from bizproc_app.web.frame_session import Entity, FrameUser, open_session

    with Bitrix24Control(control_url, timeout=10) as control:
        pair = control.token(user_id)
    card = Entity(*entity) if entity else None
    user = FrameUser(portal_id, user_id, f"User {user_id}", admin, entity=card)
    tokens = PortalTokens(pair["access_token"], pair["refresh_token"], 0)
    with app.app_context():
        return open_session(user, tokens)[1]
