"""The Linkly Cloud REST (v1) client: pairing, tokens, transactions, recovery, other calls."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import requests

from bizproc_app.linkly import payloads
from bizproc_app.linkly._http import read_json
from bizproc_app.linkly._parse import ci_get
from bizproc_app.linkly.auth import TokenManager
from bizproc_app.linkly.config import LinklySettings, TerminalCredentials
from bizproc_app.linkly.errors import (
    CallKind,
    LinklyUnavailable,
    OutcomeUnknown,
    ProtocolError,
)
from bizproc_app.linkly.models import (
    LogonResult,
    ReceiptReprint,
    RecoveryResult,
    RecoveryState,
    StatusResult,
    SubmitResult,
)
from bizproc_app.linkly.money import new_session_id, validate_session_id
from bizproc_app.linkly.payloads import Key
from bizproc_app.linkly.rest import RestCaller, final_result
from bizproc_app.linkly.tokens import TokenStore

log = logging.getLogger(__name__)

_T = TypeVar("_T")


class LinklyClient:
    """Synchronous Linkly Cloud v1 client; one instance may serve many PIN pads.

    A transaction POST is never retried or re-sent by this client: every unclear answer
    raises OutcomeUnknown, to be resolved only by `transaction_status` with the same session.
    """

    def __init__(
        self,
        settings: LinklySettings,
        *,
        session: requests.Session,
        token_store: TokenStore,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._settings = settings
        self._tokens = TokenManager(settings, session, token_store, clock)
        self._rest = RestCaller(settings, session, self._tokens)

    def pair(self, *, username: str, password: str, pair_code: str) -> str:
        """Pair a PIN pad; returns its non-expiring secret (store it encrypted)."""
        return self._tokens.pair(username=username, password=password, pair_code=pair_code)

    def token(self, *, credentials: TerminalCredentials, force_renew: bool = False) -> str:
        """Return a bearer token for the PIN pad, renewed when under the margin or forced."""
        return self._tokens.token(credentials=credentials, force_renew=force_renew)

    def purchase(
        self,
        *,
        credentials: TerminalCredentials,
        session_id: str,
        txn_ref: str,
        amount_cents: int,
        notification_uri: str,
        notification_authorization: str,
        currency: str = "AUD",
        operator_id: int,
        operator_name: str,
        receipt_auto_print: str = "0",
        extra_pad: Mapping[str, str] | None = None,
    ) -> SubmitResult:
        """Start an async purchase; persist session_id and txn_ref before calling.

        Raises InvalidRequest/SessionNotFound (Linkly says not performed; a recovery GET
        answering NOT_FOUND confirms it), OutcomeUnknown (resolve with `transaction_status`),
        or a token error (LinklyUnavailable, SecretRejected) raised before anything was sent.
        """
        request = payloads.transaction_request(
            "P", txn_ref, amount_cents, currency, receipt_auto_print, extra_pad,
            operator_id=operator_id, operator_name=operator_name,
        )  # fmt: skip
        return self._submit(
            credentials, session_id, request, notification_uri, notification_authorization
        )

    def refund(
        self,
        *,
        credentials: TerminalCredentials,
        session_id: str,
        txn_ref: str,
        amount_cents: int,
        rfn: str,
        notification_uri: str,
        notification_authorization: str,
        currency: str = "AUD",
        operator_id: int,
        operator_name: str,
        receipt_auto_print: str = "0",
        extra_pad: Mapping[str, str] | None = None,
    ) -> SubmitResult:
        """Start an async matched refund of the purchase whose response carried `rfn`.

        The app must check the refund does not exceed the original: Linkly is not known to.
        """
        request = payloads.transaction_request(
            "R", txn_ref, amount_cents, currency, receipt_auto_print, extra_pad,
            operator_id=operator_id, operator_name=operator_name, rfn=rfn,
        )  # fmt: skip
        return self._submit(
            credentials, session_id, request, notification_uri, notification_authorization
        )

    def transaction_status(
        self, *, credentials: TerminalCredentials, session_id: str
    ) -> RecoveryResult:
        """Recovery GET: FINAL (with result), IN_PROGRESS, or NOT_FOUND (never reached Linkly).

        Raises OutcomeUnknown on 408/5xx/network/unexpected answers (poll again later) and
        InvalidRequest on 400. Compare `result.txn_ref` with the stored TxnRef before use.
        """
        validate_session_id(session_id)
        url = f"{self._settings.api_url}/v1/sessions/{session_id}/transaction"
        try:
            response, token = self._rest.call(
                CallKind.RECOVERY, "GET", url, credentials, session_id
            )
        except LinklyUnavailable as exc:  # no token could be had: the outcome is still unknown
            raise OutcomeUnknown(
                f"Linkly recovery outcome unknown: token unavailable ({exc.reason})",
                reason="token_unavailable",
                session_id=session_id,
            ) from exc
        status = response.status_code
        if status == 200:
            result = final_result(response, session_id, self._settings.cancel_codes)
            state = RecoveryState.IN_PROGRESS if result is None else RecoveryState.FINAL
            return RecoveryResult(session_id, state, result)
        if status == 202:
            return RecoveryResult(session_id, RecoveryState.IN_PROGRESS)
        if status == 404:
            return RecoveryResult(session_id, RecoveryState.NOT_FOUND)
        raise self._rest.error(CallKind.RECOVERY, response, session_id, (credentials.secret, token))

    def send_key(
        self,
        *,
        credentials: TerminalCredentials,
        session_id: str,
        key: Key | str,
        data: str = "",
    ) -> None:
        """Press a key on the in-flight session; a cancel is a request, not a guarantee."""
        validate_session_id(session_id)
        body = {"Request": payloads.send_key_request(key, data)}
        url = f"{self._settings.api_url}/v1/sessions/{session_id}/sendkey"
        response, token = self._rest.call(
            CallKind.OTHER, "POST", url, credentials, session_id, body=body
        )
        if not 200 <= response.status_code < 300:
            raise self._rest.error(
                CallKind.OTHER, response, session_id, (credentials.secret, token)
            )

    def logon(
        self,
        *,
        credentials: TerminalCredentials,
        logon_type: str = " ",
        session_id: str | None = None,
    ) -> LogonResult:
        """Log the PIN pad on to the bank (sync)."""
        request = payloads.logon_request(logon_type)
        return self._operation("logon", request, credentials, session_id, LogonResult.from_json)

    def status(
        self,
        *,
        credentials: TerminalCredentials,
        status_type: str = "0",
        session_id: str | None = None,
    ) -> StatusResult:
        """Ask the PIN pad for its status (sync); use `logged_on` as a pre-flight check."""
        request = payloads.status_request(status_type)
        return self._operation("status", request, credentials, session_id, StatusResult.from_json)

    def reprint_receipt(
        self,
        *,
        credentials: TerminalCredentials,
        reprint_type: str = "2",
        session_id: str | None = None,
    ) -> ReceiptReprint:
        """Fetch the last receipt (ReprintType "2" returns it to the POS) (sync)."""
        request = payloads.reprint_request(reprint_type)
        return self._operation(
            "reprintreceipt", request, credentials, session_id, ReceiptReprint.from_json
        )

    def _submit(
        self,
        credentials: TerminalCredentials,
        session_id: str,
        request: dict[str, Any],
        notification_uri: str,
        notification_authorization: str,
    ) -> SubmitResult:
        validate_session_id(session_id)
        self._check_notification(notification_uri, notification_authorization)
        body = {
            "Request": request,
            "Notification": {
                "Uri": notification_uri,
                "AuthorizationHeader": notification_authorization,
            },
        }
        url = f"{self._settings.api_url}/v1/sessions/{session_id}/transaction"
        try:
            response, token = self._rest.call(
                CallKind.TRANSACTION,
                "POST",
                url,
                credentials,
                session_id,
                body=body,
                params={"async": "true"},
                read_timeout=self._settings.transaction_read_timeout,
                retry_401=False,  # never re-POST: after a 401 only the recovery GET may decide
            )
            status = response.status_code
            if status == 200:
                result = final_result(response, session_id, self._settings.cancel_codes)
                return SubmitResult(session_id, status, result)
            if 200 < status < 300:
                return SubmitResult(session_id, status)
            sensitive = (credentials.secret, token, notification_authorization)
            raise self._rest.error(CallKind.TRANSACTION, response, session_id, sensitive)
        except OutcomeUnknown as exc:
            log.warning("linkly transaction %s outcome unknown (%s)", session_id, exc.reason)
            raise

    def _check_notification(self, uri: str, authorization: str) -> None:
        if not uri or not authorization:
            raise ValueError("notification_uri and notification_authorization are required")
        if self._settings.require_https_notification and not uri.lower().startswith("https://"):
            raise ValueError("notification_uri must be https")

    def _operation(
        self,
        op: str,
        request: dict[str, Any],
        credentials: TerminalCredentials,
        session_id: str | None,
        parse: Callable[[Mapping[str, Any]], _T],
    ) -> _T:
        sid = validate_session_id(session_id) if session_id else new_session_id()
        url = f"{self._settings.api_url}/v1/sessions/{sid}/{op}"
        response, token = self._rest.call(
            CallKind.OTHER,
            "POST",
            url,
            credentials,
            sid,
            body={"Request": request},
            params={"async": "false"},
        )
        if response.status_code == 200:
            payload = ci_get(read_json(response), "response")
            if not isinstance(payload, dict):
                raise ProtocolError(f"Linkly {op} reply has no Response object", status=200)
            return parse(payload)
        if response.status_code == 202:
            raise LinklyUnavailable(
                f"Linkly {op} did not finish in time (HTTP 202)", status=202, reason="pending"
            )
        raise self._rest.error(CallKind.OTHER, response, sid, (credentials.secret, token))
