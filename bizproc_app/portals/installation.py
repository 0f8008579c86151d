"""The app's lifecycle on a portal: install, update and uninstall, each verified first."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bizproc_app.bitrix import (
    AuthError,
    BitrixClient,
    BitrixError,
    BitrixUnavailable,
    OAuthClient,
    OAuthError,
    resolves_publicly,
    validate_client_endpoint,
)
from bizproc_app.config import Config
from bizproc_app.models import ACTIVE_STATES, Payment, Portal, Terminal, utcnow
from bizproc_app.portals.access import application_token_matches, find_portal, journal
from bizproc_app.portals.registration import AppUrls, register
from bizproc_app.storage.secret_box import SecretBox

log = logging.getLogger(__name__)


def purge_idle_secrets(session: Session, portal_id: int) -> int:
    """Delete the Linkly secrets of the portal's terminals that no open payment still needs.

    A payment in flight or unknown needs its terminal's secret for the recovery GET; the sweep
    deletes the rest once those payments end. Returns how many secrets were kept.
    """
    busy = set(
        session.scalars(
            select(Payment.terminal_id).where(
                Payment.portal_id == portal_id, Payment.state.in_(ACTIVE_STATES)
            )
        )
    )
    kept = 0
    for terminal in session.scalars(
        select(Terminal).where(Terminal.portal_id == portal_id, Terminal.secret_enc.is_not(None))
    ):
        if terminal.id in busy:
            kept += 1
        else:
            terminal.secret_enc = None
            journal(session, "terminal.secret_deleted", portal=portal_id, subject=str(terminal.id))
    return kept


ADMINS_ONLY = "only a portal administrator may install, re-install or update the app"


class LifecycleRejected(Exception):
    """The call could not be verified; nothing was stored."""

    def __init__(self, message: str, status: int = 401) -> None:
        super().__init__(message)
        self.status = status


class UninstallUnconfirmed(LifecycleRejected):
    """The portal still accepts our token: not uninstalled (yet, or ever if forged)."""

    def __init__(self) -> None:
        super().__init__("the portal still accepts the app's token: not uninstalled", 401)


@dataclass(frozen=True)
class PortalAuth:
    """Tokens and identity carried by an install or update call (unverified until checked)."""

    member_id: str
    domain: str
    access_token: str
    refresh_token: str
    expires_in: int
    application_token: str
    scope: str = ""
    status: str = ""


@dataclass
class Lifecycle:
    """Verifies lifecycle calls against Bitrix24 and applies them to the database."""

    cfg: Config
    session: Session
    box: SecretBox
    oauth: OAuthClient
    make_client: Callable[[Portal], BitrixClient]
    # Whether the presented token's user administers the portal: (member_id, endpoint, token).
    presenter_is_admin: Callable[[str, str, str], bool]
    # Outside development a portal's domain must resolve to public addresses only.
    public_host: Callable[[str], bool] = resolves_publicly

    def install(self, auth: PortalAuth) -> Portal:
        """Verify the tokens with app.info, store the portal, register everything."""
        portal = self._store_verified(auth, event="install")
        self._register(portal)
        return portal

    def update(self, auth: PortalAuth) -> Portal:
        """ONAPPUPDATE: verify, keep the new application token, register everything again."""
        if find_portal(self.session, auth.member_id) is None:
            raise LifecycleRejected("unknown portal")
        portal = self._store_verified(auth, event="update")
        self._register(portal)
        return portal

    def uninstall(self, member_id: str, application_token: str) -> Portal:
        """ONAPPUNINSTALL: match the application token, then confirm and purge."""
        portal = find_portal(self.session, member_id)
        if not application_token_matches(portal, application_token, self.box):
            raise LifecycleRejected("application token does not match")
        return self.confirm_uninstall(member_id)

    def confirm_uninstall(self, member_id: str) -> Portal:
        """Purge the portal's secrets once Bitrix24 refuses the token it gave us."""
        portal = find_portal(self.session, member_id)
        if portal is None:
            raise LifecycleRejected("unknown portal")
        if portal.access_token_enc:
            self._confirm_revoked(portal)
        portal.clear_tokens()
        portal.installed = False
        portal.uninstalled_at = utcnow()
        kept = purge_idle_secrets(self.session, portal.id)
        journal(
            self.session,
            "bitrix.uninstalled",
            portal=portal,
            subject=member_id,
            secrets_kept_for_payments_in_flight=kept,
        )
        self.session.commit()
        return portal

    def _store_verified(self, auth: PortalAuth, *, event: str) -> Portal:
        try:
            info = self.oauth.app_info(access_token=auth.access_token)
        except BitrixUnavailable as exc:
            raise LifecycleRejected("Bitrix24 could not be reached to verify", 503) from exc
        except (BitrixError, OAuthError) as exc:
            raise LifecycleRejected(f"app.info refused the access token ({exc.code})") from exc
        if info.client_id != self.cfg.BITRIX_CLIENT_ID or info.member_id != auth.member_id:
            raise LifecycleRejected("the access token belongs to another app or portal")
        domain = (info.domain or auth.domain).lower()
        if auth.domain and auth.domain.lower() != domain:
            raise LifecycleRejected("the domain does not match app.info")
        try:
            endpoint = validate_client_endpoint(
                info.client_endpoint or f"https://{domain}/rest/",
                domain,
                self.cfg.BITRIX_ALLOW_HTTP,
            )
        except ValueError as exc:
            raise LifecycleRejected(str(exc), 400) from exc
        if not self.cfg.BITRIX_ALLOW_HTTP and not self.public_host(domain):
            raise LifecycleRejected("the portal's domain does not resolve to public addresses", 400)
        if not auth.application_token:
            raise LifecycleRejected("application_token is missing", 400)
        self._require_admin(auth, endpoint)
        portal = find_portal(self.session, auth.member_id) or Portal(member_id=auth.member_id)
        portal.domain, portal.client_endpoint = domain, endpoint
        portal.set_tokens(self.box, access=auth.access_token, refresh=auth.refresh_token)
        portal.token_expires_at = utcnow() + timedelta(seconds=auth.expires_in or 3600)
        portal.application_token_enc = self.box.encrypt(auth.application_token)
        portal.scope = info.scope or auth.scope
        portal.status = info.status or auth.status
        portal.auth_user_id = info.user_id or portal.auth_user_id or 0
        portal.installed, portal.uninstalled_at = True, None
        self.session.add(portal)
        self.session.flush()
        journal(
            self.session, f"bitrix.{event}", portal=portal, subject=auth.member_id, domain=domain
        )
        self.session.commit()
        return portal

    def _require_admin(self, auth: PortalAuth, endpoint: str) -> None:
        """Every user's browser receives a token our app.info accepts: only an admin's may
        install, re-install or update (user.admin asked with the token presented)."""
        try:
            admin = self.presenter_is_admin(auth.member_id, endpoint, auth.access_token)
        except BitrixUnavailable as exc:
            raise LifecycleRejected("Bitrix24 could not be reached to verify", 503) from exc
        except (BitrixError, OAuthError) as exc:
            raise LifecycleRejected(f"user.admin refused the access token ({exc.code})") from exc
        if not admin:
            raise LifecycleRejected(ADMINS_ONLY, 403)

    def _register(self, portal: Portal) -> None:
        started = time.monotonic()
        changed = register(
            self.make_client(portal), AppUrls(self.cfg.APP_BASE_URL), portal.auth_user_id
        )
        journal(
            self.session,
            "bitrix.registered",
            portal=portal,
            subject=portal.member_id,
            changed=changed["changed"],
            seconds=round(time.monotonic() - started, 3),
        )
        self.session.commit()

    def _confirm_revoked(self, portal: Portal) -> None:
        """An uninstall is genuine only if the portal now refuses the token it gave us."""
        try:
            self.make_client(portal).call("app.info")
        except (AuthError, OAuthError):
            return
        except BitrixUnavailable as exc:
            raise LifecycleRejected("Bitrix24 could not be reached to confirm", 503) from exc
        except BitrixError as exc:
            raise LifecycleRejected(f"unexpected answer while confirming ({exc.code})") from exc
        raise UninstallUnconfirmed()
