"""Loopback HTTP servers that stand in for someone the code under test POSTs to.

Both record every request they get and let a test wait for what it expects; they differ in what
they record, because their senders speak differently:

- `JsonEventReceiver`: a notification URI for JSON events (Linkly Cloud's notifications), or any
  stand-in server a test only needs to hear from: path, Authorization header and JSON body.
- `FormPostReceiver`: the app as Bitrix24 sees it, which form-encodes everything it sends
  (install, events, robot handler calls): path, query, form fields, content type, user agent.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response


class _Recorder:
    """A threaded server on 127.0.0.1:0 that records each request as `record` describes it."""

    def __init__(self, status: int = 200, body: str = "") -> None:
        self.status = status
        self.body = body
        self.received: list[dict[str, Any]] = []
        self._cond = threading.Condition()
        self._server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self.base_url = f"http://127.0.0.1:{self._server.server_port}"
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def record(self, request: Request) -> dict[str, Any]:
        """What to keep of one request."""
        raise NotImplementedError

    def _app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        with self._cond:
            self.received.append(self.record(request))
            self._cond.notify_all()
        return Response(self.body, status=self.status)(environ, start_response)

    def wait_for(
        self, predicate: Callable[[list[dict[str, Any]]], Any], timeout: float = 10.0
    ) -> list[dict[str, Any]]:
        """Wait until predicate(everything received so far) holds; return a copy of it."""
        with self._cond:
            if not self._cond.wait_for(lambda: predicate(self.received), timeout=timeout):
                raise TimeoutError(f"received so far: {[r['path'] for r in self.received]}")
            return list(self.received)

    def close(self) -> None:
        """Stop the server."""
        self._server.shutdown()
        self._server.server_close()


class JsonEventReceiver(_Recorder):
    """Records each JSON event POSTed to it: path, Authorization header, body (None if not JSON).

    Linkly's notification URIs put the session id in the path (`.../{{sessionid}}/{{type}}`),
    so one receiver serves many sessions: `for_session` and `wait_final` tell them apart.
    """

    def record(self, request: Request) -> dict[str, Any]:
        return {
            "path": request.path,
            "authorization": request.headers.get("Authorization"),
            "body": request.get_json(silent=True),
        }

    def for_session(self, session_id: str) -> list[dict[str, Any]]:
        """The events whose path contains session_id."""
        with self._cond:
            return [e for e in self.received if session_id in e["path"]]

    def wait_final(
        self, session_id: str, kind: str = "transaction", timeout: float = 5.0
    ) -> list[dict[str, Any]]:
        """Wait for the session's event of this kind (by default its final one); return all the
        session's events."""

        def arrived(events: list[dict[str, Any]]) -> bool:
            return any(session_id in e["path"] and e["path"].endswith("/" + kind) for e in events)

        self.wait_for(arrived, timeout)
        return self.for_session(session_id)


class FormPostReceiver(_Recorder):
    """Records each form POST as Bitrix24 sends it (bracket keys kept as they came); answers ok."""

    def __init__(self) -> None:
        super().__init__(body="ok")

    def record(self, request: Request) -> dict[str, Any]:
        return {
            "path": request.path,
            "args": request.args.to_dict(),
            "form": dict(request.form.items()),
            "content_type": request.content_type,
            "user_agent": request.headers.get("User-Agent"),
        }
