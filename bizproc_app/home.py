"""The app's landing page: what runs, and where."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template
from flask.typing import ResponseReturnValue

bp = Blueprint("home", __name__)


@bp.get("/")
def index() -> ResponseReturnValue:
    """Show the app's name, its health link and the configured Linkly hosts."""
    cfg = current_app.config["APP_CONFIG"]
    return render_template("home.html", cfg=cfg)
