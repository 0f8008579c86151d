"""Web: the blueprints, frame sessions and the helpers they share."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def init_app(app: Flask) -> None:
    """Register every blueprint and refuse framing by other sites."""
    from bizproc_app.web import (
        attention_api,
        frame_pages,
        health,
        home,
        lifecycle_events,
        linkly_notifications,
        robot_handler,
        screen_api,
        settings_api,
    )
    from bizproc_app.web.http import refuse_framing

    for module in (
        health,
        home,
        lifecycle_events,
        robot_handler,
        linkly_notifications,
        frame_pages,
        screen_api,
        settings_api,
        attention_api,
    ):
        app.register_blueprint(module.bp)
    app.after_request(refuse_framing)
