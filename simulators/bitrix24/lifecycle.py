"""App lifecycle senders: install (frame or ONAPPINSTALL), ONAPPUPDATE, ONAPPUNINSTALL, revoke."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .util import hex_id

if TYPE_CHECKING:
    from .portal import Portal


def install_frame(portal: Portal, user_id: int = 1, finish: bool = False) -> dict[str, Any]:
    """POST the install page's frame form (PLACEMENT=DEFAULT) to the install URL."""
    with portal.lock:
        query, form = portal.frame(user_id, "DEFAULT", None)
        if finish:
            portal.app.installed = True
    return portal.outbound.send_now(portal.install_url(), form, "install_frame", query=query)


def install_event(portal: Portal, user_id: int = 1) -> dict[str, Any]:
    """POST the ONAPPINSTALL form to the install URL (API-only apps); INSTALLED becomes true."""
    with portal.lock:
        portal.app.installed = True
        portal.app.revoked = False
        form = {
            "event": "ONAPPINSTALL",
            "data": {
                "VERSION": str(portal.app.version),
                "ACTIVE": "Y",
                "INSTALLED": "Y",
                "LANGUAGE_ID": portal.cfg.language,
            },
            "ts": str(int(portal.clock.now())),
            "auth": portal.event_auth(user_id),
        }
    return portal.outbound.send_now(portal.install_url(), form, "ONAPPINSTALL")


def _deliver(
    portal: Portal,
    name: str,
    bindings: list[dict[str, Any]],
    data: dict[str, Any],
    user_id: int | None,
) -> list[dict[str, Any]]:
    """POST one lifecycle event to each binding synchronously."""
    sent = []
    for b in bindings:
        if b["event"] != name or b["offline"]:
            continue
        with portal.lock:
            form = {
                "event": name,
                "event_handler_id": str(b["id"]),
                "data": data,
                "ts": str(int(portal.clock.now())),
                "auth": portal.event_auth(user_id),
            }
        sent.append(portal.outbound.send_now(b["handler"], form, name))
    return sent


def app_update(portal: Portal, version: int | None = None, user_id: int = 1) -> dict[str, Any]:
    """New version: new application_token, registrations wiped, ONAPPUPDATE sent."""
    with portal.lock:
        previous = portal.app.version
        portal.app.version = version if version is not None else previous + 1
        portal.app.application_token = hex_id(32)
        snapshot = list(portal.bindings)
        portal.wipe_registrations(portal.cfg.update_wipes_events)
        data = {
            "VERSION": str(portal.app.version),
            "PREVIOUS_VERSION": str(previous),
            "LANGUAGE_ID": portal.cfg.language,
        }
    sent = _deliver(portal, "ONAPPUPDATE", snapshot, data, user_id)
    return {
        "version": portal.app.version,
        "application_token": portal.app.application_token,
        "sent": sent,
    }


def app_uninstall(portal: Portal, clean: bool = True) -> dict[str, Any]:
    """ONAPPUNINSTALL (no tokens) to bound handlers; then the app is gone."""
    with portal.lock:
        snapshot = list(portal.bindings)
        data = {"LANGUAGE_ID": portal.cfg.language, "CLEAN": "1" if clean else "0"}
        revoke_first = portal.cfg.uninstall_revokes_first
    if revoke_first:  # Bitrix24 deletes the app, then its queue delivers the event
        _remove(portal)
    sent = _deliver(portal, "ONAPPUNINSTALL", snapshot, data, None)
    if not revoke_first:
        _remove(portal)
    return {"sent": sent}


def _remove(portal: Portal) -> None:
    """Delete the app from the portal: registrations, placements, tokens."""
    with portal.lock:
        portal.wipe_registrations(True)
        portal.placements.clear()
        portal.app.installed = False
        revoke(portal)


def revoke(portal: Portal) -> None:
    """The app is removed: every token is refused, refresh fails."""
    with portal.lock:
        portal.app.revoked = True
        portal.tokens.revoke_all()
        for wf in portal.engine.workflows.values():
            if wf.waiting:
                portal.engine.note(wf, "Application revoked")
