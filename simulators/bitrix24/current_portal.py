"""The Portal a Flask app serves, kept in app.extensions so module-level views can reach it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask, current_app

if TYPE_CHECKING:
    from .portal import Portal

EXTENSION = "bitrix24_portal"


def attach_portal(app: Flask, portal: Portal) -> None:
    """Make portal the state every view of app works on (one Portal per app)."""
    app.extensions[EXTENSION] = portal


def current_portal() -> Portal:
    """The Portal of the app handling the current request."""
    portal: Portal = current_app.extensions[EXTENSION]
    return portal
