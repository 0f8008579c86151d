"""The Bitrix24 app that takes card payments on Linkly Cloud EFTPOS terminals."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bizproc_app.config import INSTANCE_DIR, Config

if TYPE_CHECKING:
    from flask import Flask


def create_app(config: Config | None = None) -> Flask:
    """Build the Flask app: config, extensions, blueprints, CLI."""
    from flask import Flask

    from bizproc_app import cli, web
    from bizproc_app.extensions import db, redis_conn, secrets
    from bizproc_app.wiring import services

    cfg = config.validated() if config is not None else Config.from_env()
    app = Flask(__name__, instance_path=str(INSTANCE_DIR))
    app.config.update(APP_CONFIG=cfg, SECRET_KEY=cfg.SECRET_KEY, TESTING=cfg.APP_ENV == "testing")
    for ext in (db, redis_conn, secrets):
        ext.init_app(app)
    services.init_payments(app)
    web.init_app(app)
    cli.init_app(app)
    return app
