"""Frame sessions: who opened our page inside Bitrix24, on which card, acting with whose token."""

from __future__ import annotations

import secrets as token_secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import wraps
from typing import Any

from flask import current_app, g, request
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from bizproc_app.bitrix import (
    OVERLOAD_ADVICE,
    AuthError,
    BitrixClient,
    BitrixError,
    OAuthError,
    OverloadLimit,
    PortalTokens,
)
from bizproc_app.extensions import app_config, db, redis_conn, secrets
from bizproc_app.models import Payment, Portal, find_payment, has_refund_grant
from bizproc_app.web.frame_tokens import FrameTokens, SessionEnded
from bizproc_app.web.http import error
from bizproc_app.wiring.acting_user import is_admin, user_client

SESSION_ENDED = "Your session has expired: reopen the tab."
ADMINS_ONLY = "Only portal administrators may do this."


@dataclass(frozen=True)
class Entity:
    """The CRM card (deal or smart invoice) a payment screen was opened on."""

    kind: str  # deal | invoice
    id: int

    def holds(self, *, deal_id: int | None, invoice_id: int | None) -> bool:
        """Whether a document with these ids is this card or, for a deal, belongs to it."""
        return (deal_id if self.kind == "deal" else invoice_id) == self.id


@dataclass(frozen=True)
class FrameUser:
    """The Bitrix24 user behind a frame token."""

    portal_id: int
    user_id: int
    name: str
    admin: bool  # as user.admin said when the frame opened; admin_now() asks again
    session: str = ""  # names the user's own Bitrix24 tokens, kept while the frame lives
    entity: Entity | None = None


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="frame-token")


def issue(user: FrameUser) -> str:
    """A signed token naming the portal, the user, the session and the card (no secret)."""
    card = [user.entity.kind, user.entity.id] if user.entity else ["", 0]
    return _serializer().dumps(
        [user.portal_id, user.user_id, user.name, user.admin, user.session, *card]
    )


def read(token: str) -> FrameUser | None:
    """The user of a valid, unexpired token; None otherwise."""
    try:
        loaded = _serializer().loads(token, max_age=app_config().timings.frame_token)
        portal_id, user_id, name, admin, session, kind, entity_id = loaded
        entity = Entity(str(kind), int(entity_id)) if kind in ("deal", "invoice") else None
        return FrameUser(int(portal_id), int(user_id), str(name), bool(admin), str(session), entity)
    except (BadSignature, SignatureExpired, ValueError, TypeError):
        return None


def _tokens(session: str) -> FrameTokens:
    return FrameTokens(redis_conn.client, secrets.box, session)


def _admin_key(session: str) -> str:
    return f"frame:{session}:admin-checked"


def _admin_confirmed(session: str) -> None:
    """Bitrix24 just said yes: trust it for a while (`Timings.admin_recheck`)."""
    redis_conn.client.set(_admin_key(session), 1, ex=app_config().timings.admin_recheck)


def open_session(user: FrameUser, tokens: PortalTokens) -> tuple[FrameUser, str]:
    """Keep the user's tokens for the frame's life; return the user with its session and token."""
    user = replace(user, session=token_secrets.token_urlsafe(24))
    session = user.session
    _tokens(session).keep(tokens, app_config().timings.frame_token)
    if user.admin:  # user.admin was just asked
        _admin_confirmed(session)
    return user, issue(user)


def as_user() -> BitrixClient:
    """A REST client acting as the frame's user: Bitrix24's own permissions decide."""
    portal: Portal = g.portal
    return user_client(
        app_config(),
        member_id=portal.member_id,
        client_endpoint=portal.client_endpoint,
        store=_tokens(g.user.session),
        redis_client=redis_conn.client,
        lock_name=f"frame:{g.user.session}",
    )


def admin_now() -> bool:
    """Whether the frame's user is an admin, asked again once `Timings.admin_recheck` passed."""
    user: FrameUser = g.user
    if not user.admin:
        return False
    if redis_conn.client.exists(_admin_key(user.session)):
        return True
    try:
        confirmed = is_admin(as_user())
    except (AuthError, OAuthError) as exc:  # the user's own token is dead
        raise SessionEnded() from exc
    if confirmed:
        _admin_confirmed(user.session)
    return confirmed


def may_refund() -> bool:
    """Users an admin granted refunds to, and admins (asked again)."""
    return has_refund_grant(db.session, g.user.portal_id, g.user.user_id) or admin_now()


def frame_api(*, admin: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Require a live frame session (and a confirmed admin); sets g.user and g.portal."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            header = request.headers.get("Authorization", "")
            user = (
                read(header.removeprefix("Bearer ").strip())
                if header.startswith("Bearer ")
                else None
            )
            if user is None:
                return error(401, SESSION_ENDED)
            portal = db.session.get(Portal, user.portal_id)
            if portal is None or not portal.installed:
                return error(401, "The app is not installed on this portal.")
            if not user.session or not _tokens(user.session).exists():
                return error(401, SESSION_ENDED)
            g.user, g.portal = user, portal
            try:
                if admin and not admin_now():
                    return error(403, ADMINS_ONLY)
            except OverloadLimit:
                return error(503, OVERLOAD_ADVICE)
            except BitrixError as exc:
                return error(502, f"Bitrix24 did not confirm your rights ({exc.code}); try again.")
            try:
                return view(*args, **kwargs)
            except SessionEnded:
                return error(401, SESSION_ENDED)

        return wrapped

    return decorate


def portal_payment(payment_id: str) -> Payment | None:
    """The payment with this id if it belongs to the frame's portal (else None: a 404)."""
    payment = find_payment(db.session, payment_id)
    return payment if payment is not None and payment.portal_id == g.portal.id else None
