"""Frame sessions: who opened our page inside Bitrix24, carried by a short-lived signed token."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from flask import current_app, g, request
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from bizproc_app.extensions import db
from bizproc_app.models import Payment, Portal, RefundGrant, find_payment
from bizproc_app.web import error

TOKEN_SECONDS = 4 * 3600  # a shift at the till; reopening the tab issues a new one


@dataclass(frozen=True)
class FrameUser:
    """The Bitrix24 user behind a frame token."""

    portal_id: int
    user_id: int
    name: str
    admin: bool

    def can_refund(self) -> bool:
        """Admins, and users an admin granted refunds to."""
        return self.admin or db.session.get(RefundGrant, (self.portal_id, self.user_id)) is not None


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="frame-token")


def issue(user: FrameUser) -> str:
    """A signed token naming the portal and the user (no secret inside)."""
    return _serializer().dumps([user.portal_id, user.user_id, user.name, user.admin])


def read(token: str) -> FrameUser | None:
    """The user of a valid, unexpired token; None otherwise."""
    try:
        portal_id, user_id, name, admin = _serializer().loads(token, max_age=TOKEN_SECONDS)
    except (BadSignature, SignatureExpired, ValueError, TypeError):
        return None
    return FrameUser(int(portal_id), int(user_id), str(name), bool(admin))


def frame_api(*, admin: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Require a frame token (and admin rights); sets g.user and g.portal."""

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
                return error(401, "Your session has expired: reopen the tab.")
            portal = db.session.get(Portal, user.portal_id)
            if portal is None or not portal.installed:
                return error(401, "The app is not installed on this portal.")
            if admin and not user.admin:
                return error(403, "Only portal administrators may do this.")
            g.user, g.portal = user, portal
            return view(*args, **kwargs)

        return wrapped

    return decorate


def portal_payment(payment_id: str) -> Payment | None:
    """The payment with this id if it belongs to the frame's portal (else None: a 404)."""
    payment = find_payment(db.session, payment_id)
    return payment if payment is not None and payment.portal_id == g.portal.id else None
