"""LinklySimulator: the Flask app plus werkzeug's threaded server on a background thread."""

from __future__ import annotations

import logging
import threading
from typing import Any

from flask import Flask, request
from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler

from . import api_auth, api_control, api_rest
from .config import SimulatorConfig
from .engine import Engine
from .faults import FaultStore
from .ledger import Ledger
from .notifier import Notifier
from .pinpad import PinPad, PinPadRegistry
from .session import SessionStore


class _Handler(WSGIRequestHandler):
    """Request handler that logs only when log_requests is on (errors always)."""

    def log(self, type: str, message: str, *args: Any) -> None:
        """Filter werkzeug's per-request log lines."""
        if type == "error" or getattr(self.server, "log_requests", lambda: False)():
            super().log(type, message, *args)


class _Server(ThreadedWSGIServer):
    """Threaded server with a listen backlog big enough for many PIN pads."""

    request_queue_size = 1024


def create_app(engine: Engine) -> Flask:
    """Build the Flask app serving auth, REST and control routes on one port."""
    app = Flask("simulators.linkly")
    app.json.sort_keys = False
    app.extensions["linkly"] = engine
    app.register_blueprint(api_auth.bp)
    app.register_blueprint(api_rest.bp)
    app.register_blueprint(api_control.bp)
    counts: dict[str, int] = {}
    counts_lock = threading.Lock()
    app.extensions["linkly_requests"] = counts

    @app.before_request
    def _count() -> None:
        # Observability for benchmarks: API requests by method and route (not /_sim/).
        rule = request.url_rule.rule if request.url_rule is not None else request.path
        if not rule.startswith("/_sim"):
            key = f"{request.method} {rule}"
            with counts_lock:
                counts[key] = counts.get(key, 0) + 1

    return app


class LinklySimulator:
    """A faithful local Linkly Cloud (v1) simulator; see README.md."""

    def __init__(
        self,
        config: SimulatorConfig | None = None,
        pair_code: str | None = None,
        create_pinpad: bool = True,
    ) -> None:
        """Build the engine and app; create PIN pad "1" (with pair_code) unless told not to."""
        self.config = config or SimulatorConfig()
        self.engine = Engine(self.config)
        self.app = create_app(self.engine)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        if create_pinpad:
            self.add_pinpad(pair_code=pair_code, id="1")

    def add_pinpad(self, pair_code: str | None = None, **settings: Any) -> PinPad:
        """Create a PIN pad (settings: id, mode, cardholder_delay, account)."""
        return self.engine.create_pinpad(pair_code, **settings)

    def pinpad(self, pad_id: str = "1") -> PinPad:
        """Return a PIN pad by id (KeyError if unknown)."""
        pad = self.engine.pads.get(pad_id)
        if pad is None:
            raise KeyError(pad_id)
        return pad

    @property
    def ledger(self) -> Ledger:
        """What was charged and refunded."""
        return self.engine.ledger

    @property
    def pinpads(self) -> PinPadRegistry:
        """All PIN pads."""
        return self.engine.pads

    @property
    def sessions(self) -> SessionStore:
        """All sessions received."""
        return self.engine.sessions

    @property
    def faults(self) -> FaultStore:
        """Armed faults."""
        return self.engine.faults

    @property
    def notifier(self) -> Notifier:
        """Notification delivery (and its log)."""
        return self.engine.notifier

    @property
    def port(self) -> int:
        """The port actually bound."""
        if self._server is None:
            raise RuntimeError("simulator not started")
        return self._server.server_port

    @property
    def base_url(self) -> str:
        """http://host:port of the running simulator (auth, REST and /_sim/)."""
        if self._server is None:
            raise RuntimeError("simulator not started")
        host = self._server.server_address[0]
        return f"http://{host.decode() if isinstance(host, bytes) else host}:{self.port}"

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Start serving in a background thread; return base_url."""
        if self._server is not None:
            raise RuntimeError("already started")
        self.engine.start()
        self._server = _Server(host, port, self.app, handler=_Handler)
        self._server.log_requests = lambda: self.config.log_requests
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="linkly-http",
            daemon=True,
        )
        self._thread.start()
        logging.getLogger(__name__).info("Linkly simulator on %s", self.base_url)
        return self.base_url

    def stop(self) -> None:
        """Stop serving and all background threads."""
        self.engine.stop()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server, self._thread = None, None

    def __enter__(self) -> LinklySimulator:
        """Start on a free loopback port."""
        if self._server is None:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        """Stop."""
        self.stop()
