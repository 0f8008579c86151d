"""The base of the simulators' control clients: JSON calls to a simulator's `/_sim/` API.

Each simulator ships its own client on this base (`simulators.linkly.control_client.LinklyControl`,
`simulators.bitrix24.control_client.Bitrix24Control`). They hold nothing but `requests` calls, no
pytest and nothing of the app, so the tests, the demo and the benchmark can all drive the
simulators through them.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any, Self

import requests

CONTROL_PATH = "/_sim"
DEFAULT_TIMEOUT = 10.0  # seconds, for each call unless the client or the call says otherwise


class ControlError(requests.HTTPError):
    """A control call was answered with an HTTP error (4xx or 5xx): the message has the body."""

    def __init__(self, response: requests.Response) -> None:
        request = response.request
        super().__init__(
            f"{request.method} {request.url}: HTTP {response.status_code}: {response.text[:500]}",
            response=response,
        )


class ControlClient:
    """One simulator's control API: a JSON body in, the decoded JSON answer out.

    `base_url` is the simulator's root (`http://host:port`; its control URL, ending in `/_sim/`,
    is taken as well). Pass a `requests.Session` (kept as `http`) to share its connections and
    own its lifetime; without one the client makes its own and `close()` closes it. Every call
    has a timeout (`timeout`, unless the call gives its own) and raises ControlError on an HTTP
    error unless made with `check=False`.
    """

    def __init__(
        self,
        base_url: str,
        session: requests.Session | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.base_url = base_url.rstrip("/").removesuffix(CONTROL_PATH)
        self.http = session if session is not None else requests.Session()
        self._owns_http = session is None
        self.timeout = timeout

    def url(self, path: str) -> str:
        """The URL of a control path (`"ledger"`, `"/pinpads/1"`, `"faults?x=1"`)."""
        return f"{self.base_url}{CONTROL_PATH}/{path.lstrip('/')}"

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        params: dict[str, Any] | None = None,
        check: bool = True,
        timeout: float | None = None,
    ) -> requests.Response:
        """Send one control call with `body` as JSON; return the response.

        Raises ControlError on a 4xx or 5xx answer unless `check` is False.
        """
        response = self.http.request(
            method,
            self.url(path),
            json=body,
            params=params,
            timeout=self.timeout if timeout is None else timeout,
        )
        if check and response.status_code >= 400:
            raise ControlError(response)
        return response

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        params: dict[str, Any] | None = None,
        check: bool = True,
        timeout: float | None = None,
    ) -> Any:
        """Send one control call; return its decoded JSON answer (see `request`)."""
        return self.request(method, path, body, params=params, check=check, timeout=timeout).json()

    def routes(self) -> list[dict[str, Any]]:
        """Every control route with a one-line description (`GET /_sim/`)."""
        return list(self.call("GET", "")["routes"])

    def close(self) -> None:
        """Close the HTTP session if the client made it."""
        if self._owns_http:
            self.http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
