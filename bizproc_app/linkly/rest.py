"""Bearer-authenticated calls to the REST host, and reading a final transaction reply."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import requests

from bizproc_app.linkly._http import read_json, scrub, send
from bizproc_app.linkly._parse import ci_get
from bizproc_app.linkly.auth import TokenManager
from bizproc_app.linkly.config import LinklySettings, TerminalCredentials
from bizproc_app.linkly.errors import CallKind, LinklyError, OutcomeUnknown, error_for
from bizproc_app.linkly.models import TransactionResult


class RestCaller:
    """Send one request to the REST host with the PIN pad's bearer token."""

    def __init__(
        self, settings: LinklySettings, session: requests.Session, tokens: TokenManager
    ) -> None:
        self._settings = settings
        self._session = session
        self._tokens = tokens

    def call(
        self,
        kind: CallKind,
        method: str,
        url: str,
        credentials: TerminalCredentials,
        session_id: str,
        *,
        body: Any = None,
        params: dict[str, str] | None = None,
        read_timeout: float | None = None,
        retry_401: bool = True,
    ) -> tuple[requests.Response, str]:
        """Return (response, token used); a 401 drops the token, then retries once if allowed.

        The token is obtained before anything is sent, so a token error means no request left.
        """
        timeout = (self._settings.connect_timeout, read_timeout or self._settings.read_timeout)
        for _attempt in range(2 if retry_401 else 1):
            token = self._tokens.token(credentials=credentials)
            response = send(
                self._session,
                kind,
                method,
                url,
                timeout=timeout,
                token=token,
                json_body=body,
                params=params,
                session_id=session_id,
            )
            if response.status_code != 401:
                break
            self._tokens.invalidate(credentials=credentials, token=token)
        return response, token

    @staticmethod
    def error(
        kind: CallKind,
        response: requests.Response,
        session_id: str,
        sensitive: Iterable[str | None],
    ) -> LinklyError:
        """Map a failed response to its error, with the body scrubbed of known secrets."""
        body = scrub(response.text, sensitive)
        return error_for(kind, status=response.status_code, body=body, session_id=session_id)


def final_result(
    response: requests.Response, session_id: str, cancel_codes: frozenset[str]
) -> TransactionResult | None:
    """Parse a 200 transaction reply: the result, None while Response is null.

    An unreadable 200 may still hide a charge, so it raises OutcomeUnknown, not ProtocolError.
    """
    body = read_json(response)
    payload = ci_get(body, "response")
    if payload is None and ci_get(body, "responsecode") is not None:
        payload = body  # a bare transaction response without the envelope
    if isinstance(payload, dict):
        return TransactionResult.from_json(payload, cancel_codes=cancel_codes)
    if isinstance(body, dict) and payload is None:
        return None
    raise OutcomeUnknown(
        "Linkly transaction reply unreadable; outcome unknown",
        status=response.status_code,
        reason="unparseable",
        session_id=session_id,
    )
