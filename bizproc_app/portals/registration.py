"""Register the app on a portal idempotently: robots, activities, placements, event handlers."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from activities import DEFINITIONS
from bizproc_app.bitrix import BitrixClient, BitrixError

log = logging.getLogger(__name__)

PLACEMENTS = (
    ("CRM_DEAL_DETAIL_TAB", "POS payments"),
    ("CRM_SMART_INVOICE_DETAIL_TAB", "POS payments"),
    ("CRM_DEAL_DETAIL_TOOLBAR", "Receive Payment"),
)
EVENTS = ("ONAPPUPDATE", "ONAPPUNINSTALL")


@dataclass(frozen=True)
class AppUrls:
    """The URLs Bitrix24 calls back, all under APP_BASE_URL."""

    base: str

    @property
    def handler(self) -> str:
        """Where robots and activities POST their calls."""
        return f"{self.base}/bitrix/handler"

    @property
    def placement(self) -> str:
        """The page every placement opens."""
        return f"{self.base}/bitrix/placement"

    @property
    def events(self) -> str:
        """Where ONAPPUPDATE and ONAPPUNINSTALL arrive."""
        return f"{self.base}/bitrix/events"


def _rows(value: Any) -> list[dict[str, Any]]:
    """Normalise a list result (PHP may send {} or [] when empty) to lower-cased dicts."""
    items = value.values() if isinstance(value, dict) else value or []
    return [{str(k).lower(): v for k, v in row.items()} for row in items if isinstance(row, dict)]


def plan(
    current: dict[str, Any], urls: AppUrls, auth_user_id: int
) -> dict[str, tuple[str, dict[str, Any]]]:
    """Return the batch commands that bring the portal's registrations to the wanted state."""
    commands: dict[str, tuple[str, dict[str, Any]]] = {}
    for kind, robot in (("robot", True), ("activity", False)):
        codes = {str(c).lower() for c in (current.get(kind) or [])}
        for definition in DEFINITIONS:
            params = definition.registration(
                robot=robot, handler_url=urls.handler, auth_user_id=auth_user_id
            )
            code = params["CODE"]
            if code in codes:  # list gives codes only, so update every field to repair drift
                fields = {k: v for k, v in params.items() if k != "CODE"}
                commands[f"upd_{code}"] = (
                    f"bizproc.{kind}.update",
                    {"CODE": code, "FIELDS": fields},
                )
            else:
                commands[f"add_{code}"] = (f"bizproc.{kind}.add", params)
    bound = {(r.get("placement"), r.get("handler")): r for r in _rows(current.get("placements"))}
    for placement, title in PLACEMENTS:
        row = bound.get((placement, urls.placement))
        if row is not None and row.get("title") == title:
            continue
        if row is not None:
            commands[f"unbind_{placement}"] = (
                "placement.unbind",
                {"PLACEMENT": placement, "HANDLER": urls.placement},
            )
        commands[f"bind_{placement}"] = (
            "placement.bind",
            {"PLACEMENT": placement, "HANDLER": urls.placement, "TITLE": title},
        )
    events = {(str(r.get("event")).upper(), r.get("handler")) for r in _rows(current.get("events"))}
    for event in EVENTS:
        if (event, urls.events) not in events:
            commands[f"event_{event}"] = ("event.bind", {"event": event, "handler": urls.events})
    return commands


def current(client: BitrixClient) -> dict[str, Any]:
    """What the portal has registered for this app (one batch)."""
    read = client.batch(
        {
            "robot": ("bizproc.robot.list", {}),
            "activity": ("bizproc.activity.list", {}),
            "placements": ("placement.get", {}),
            "events": ("event.get", {}),
        }
    )
    if read.errors:
        raise next(iter(read.errors.values()))
    return read.results


def status(client: BitrixClient, urls: AppUrls, auth_user_id: int) -> dict[str, Any]:
    """For the settings page: what is registered and what is missing (updates not counted)."""
    found = current(client)
    missing = sorted(k for k in plan(found, urls, auth_user_id) if not k.startswith("upd_"))
    return {
        "ok": not missing,
        "missing": missing,
        "robots": sorted(found.get("robot") or []),
        "activities": sorted(found.get("activity") or []),
        "placements": sorted({str(r.get("placement")) for r in _rows(found.get("placements"))}),
        "events": sorted({str(r.get("event")).upper() for r in _rows(found.get("events"))}),
    }


def register(client: BitrixClient, urls: AppUrls, auth_user_id: int) -> dict[str, Any]:
    """Read what is registered, then add what is missing and update what differs (2 requests)."""
    commands = plan(current(client), urls, auth_user_id)
    if not commands:
        return {"changed": []}
    written = client.batch(commands)
    failures = {k: e for k, e in written.errors.items() if not _already_done(e)}
    if failures:
        name, error = next(iter(failures.items()))
        log.warning("registration step %s failed: %s", name, error.code)
        raise error
    return {"changed": sorted(commands)}


def _already_done(error: BitrixError) -> bool:
    """Bitrix24 reports a duplicate binding as an error; it means the work is done."""
    text = f"{error.code} {error.description}".lower()
    return "already binded" in text or "already installed" in text or "already bound" in text
