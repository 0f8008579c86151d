"""Bitrix24Simulator: builds the Flask apps and serves them from background threads."""

from __future__ import annotations

import threading
from typing import Any

from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

# batch and rest_* are imported for their side effect: they register their REST methods in
# registry.METHODS. control_* and pages hold the module-level blueprints registered below.
from . import (  # noqa: F401
    batch,
    control_app,
    control_bizproc,
    control_crm,
    control_logs,
    control_portal,
    control_switches,
    pages,
    rest_app_user,
    rest_bizproc,
    rest_crm_deal,
    rest_crm_item,
    rest_crm_payment,
    rest_notify_timeline,
    rest_placement_event,
)
from .config import SimConfig
from .current_portal import attach_portal
from .http_rest import make_blueprint
from .oauth import make_authorize_blueprint, make_oauth_blueprint
from .portal import Portal

# In this order in GET /_sim/'s route list.
CONTROL_BLUEPRINTS = (
    control_app.bp,
    control_switches.bp,
    control_logs.bp,
    control_crm.bp,
    control_bizproc.bp,
    control_portal.bp,
)

OAUTH_PREFIX = "/oauth-server"


class QuietHandler(WSGIRequestHandler):
    """Request handler without access logging."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        """Do not log."""


class Bitrix24Simulator:
    """One simulated portal + OAuth server; start() serves it on 127.0.0.1."""

    def __init__(self, config: SimConfig | None = None, quiet: bool = True) -> None:
        self.config = config or SimConfig()
        self.quiet = quiet
        self.portal = Portal(self.config)
        self._servers: list[BaseWSGIServer] = []
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()
        self.urls: dict[str, str] = {}

    def build_app(self) -> Flask:
        """The portal's WSGI app (REST, OAuth prefix, control API, pages)."""
        app = Flask("bitrix24_simulator")
        attach_portal(app, self.portal)
        app.register_blueprint(make_blueprint(self.portal))
        app.register_blueprint(make_oauth_blueprint(self.portal, "oauth"), url_prefix=OAUTH_PREFIX)
        app.register_blueprint(make_authorize_blueprint(self.portal))
        for bp in CONTROL_BLUEPRINTS:
            app.register_blueprint(bp)
        app.register_blueprint(pages.bp)
        return app

    def _serve(self, app: Flask, host: str, port: int) -> BaseWSGIServer:
        """Start one threaded werkzeug server in a daemon thread."""
        handler = QuietHandler if self.quiet else WSGIRequestHandler
        server = make_server(host, port, app, threaded=True, request_handler=handler)
        thread = threading.Thread(
            target=server.serve_forever, args=(0.05,), daemon=True, name="b24-http"
        )
        thread.start()
        self._servers.append(server)
        self._threads.append(thread)
        return server

    def start(self, host: str = "127.0.0.1", port: int = 0) -> dict[str, str]:
        """Serve on host:port (0 = free port); return the base URLs."""
        server = self._serve(self.build_app(), host, port)
        base = f"http://{host}:{server.server_port}"
        self.portal.portal_url = base
        self.portal.oauth_url = base + OAUTH_PREFIX
        if self.config.oauth_port >= 0:
            oauth_app = Flask("bitrix24_oauth")
            oauth_app.register_blueprint(make_oauth_blueprint(self.portal, "oauth2"))
            o = self._serve(oauth_app, host, self.config.oauth_port)
            self.portal.oauth_url = f"http://{host}:{o.server_port}"
        self.portal.outbound.start()
        ticker = threading.Thread(target=self._tick, daemon=True, name="b24-ticker")
        ticker.start()
        self._threads.append(ticker)
        for _ in range(self.config.seed_deals):
            with self.portal.lock:
                self.portal.crm.add(2, {"opportunity": 100.0}, 1)
        self.urls = {
            "portal": base,
            "rest": self.portal.client_endpoint,
            "oauth": self.portal.oauth_url,
            "control": base + "/_sim/",
            "install_url": self.portal.install_url(),
        }
        return self.urls

    def _tick(self) -> None:
        """Fire workflow timeouts in the background."""
        while not self._stop.wait(0.2):
            with self.portal.lock:
                self.portal.engine.tick()

    def stop(self) -> None:
        """Stop every server and thread."""
        self._stop.set()
        for server in self._servers:
            server.shutdown()
            server.server_close()
        self.portal.outbound.stop()

    def __enter__(self) -> Bitrix24Simulator:
        """Context manager: start on a free port."""
        if not self.urls:
            self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        """Context manager: stop."""
        self.stop()
