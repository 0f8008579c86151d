"""The app's landing page: what runs, and where."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

from bizproc_app.extensions import app_config

bp = Blueprint("home", __name__)


@bp.post("/")
def app_page() -> ResponseReturnValue:
    """The app's own page inside Bitrix24 (PLACEMENT=DEFAULT): the settings, for admins."""
    from bizproc_app.web.frame_pages import placement

    return placement()


@bp.get("/")
def index() -> ResponseReturnValue:
    """Show the app's name, its health link and the configured Linkly hosts."""
    cfg = app_config()
    return render_template("home.html", cfg=cfg)
