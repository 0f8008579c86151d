"""Helpers shared by test fixtures: free ports, private servers, the loopback guard."""

from __future__ import annotations

import ipaddress
import shutil
import socket
import subprocess
import threading
import time
from contextlib import closing


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    """Block until something accepts connections on 127.0.0.1:port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with closing(socket.socket()) as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


def start_redis() -> tuple[subprocess.Popen[bytes], str]:
    """Start a private, non-persistent redis-server on a free loopback port."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed: apt-get install redis-server")
    port = free_port()
    proc = subprocess.Popen(
        [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for_port(port)
    return proc, f"redis://127.0.0.1:{port}"


def is_loopback(address: object) -> bool:
    """Return True for AF_UNIX paths and loopback IP addresses."""
    if not isinstance(address, tuple):
        return True
    host = address[0]
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class EventReceiver:
    """A loopback HTTP server that records every POST it receives (a stand-in notification URI)."""

    def __init__(self, status: int = 200) -> None:
        from werkzeug.serving import make_server
        from werkzeug.wrappers import Request, Response

        self.status = status
        self.events: list[dict] = []
        self._cond = threading.Condition()

        @Request.application
        def app(request: Request) -> Response:
            with self._cond:
                self.events.append(
                    {
                        "path": request.path,
                        "authorization": request.headers.get("Authorization"),
                        "body": request.get_json(silent=True),
                    }
                )
                self._cond.notify_all()
            return Response("", status=self.status)

        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.base_url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def wait_for(self, predicate, timeout: float = 10.0) -> list[dict]:
        """Wait until predicate(events) is true; return the events."""
        with self._cond:
            if not self._cond.wait_for(lambda: predicate(self.events), timeout=timeout):
                raise TimeoutError(f"events so far: {[e['path'] for e in self.events]}")
            return list(self.events)

    def close(self) -> None:
        """Stop the server."""
        self._server.shutdown()
        self._server.server_close()
