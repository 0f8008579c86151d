"""Extensions: unbound objects whose per-app state lives in app.extensions."""

from __future__ import annotations

from dataclasses import dataclass

import redis
from flask import Flask, current_app
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.orm import Session, scoped_session, sessionmaker

from bizproc_app.config import Config
from bizproc_app.storage.secret_box import SecretBox


def app_config(app: Flask | None = None) -> Config:
    """The app's typed configuration, set once by create_app (the current app's by default)."""
    cfg: Config = (app or current_app).config["APP_CONFIG"]
    return cfg


@dataclass
class _DatabaseState:
    engine: Engine
    session: scoped_session[Session]


class Database:
    """SQLAlchemy engine and a session scoped to the app context."""

    def init_app(self, app: Flask) -> None:
        """Create the engine from the app's config and remove the session after each request."""
        engine = make_engine(app_config(app).DATABASE_URL)
        state = _DatabaseState(engine, scoped_session(sessionmaker(engine, expire_on_commit=False)))
        app.extensions["database"] = state
        app.teardown_appcontext(lambda _exc: state.session.remove())

    @property
    def engine(self) -> Engine:
        """The current app's engine."""
        engine: Engine = current_app.extensions["database"].engine
        return engine

    @property
    def session(self) -> Session:
        """The current app context's session."""
        session: Session = current_app.extensions["database"].session()
        return session


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite gets WAL, a busy timeout and foreign keys."""
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(conn: DBAPIConnection, _record: object) -> None:
        cur = conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.close()

    return engine


class RedisConnection:
    """One Redis client per app; no connection is made until first use."""

    def init_app(self, app: Flask) -> None:
        """Create the client from REDIS_URL."""
        app.extensions["redis"] = redis.Redis.from_url(
            app_config(app).REDIS_URL, socket_timeout=5, socket_connect_timeout=2
        )

    @property
    def client(self) -> redis.Redis:
        """The current app's Redis client."""
        client: redis.Redis = current_app.extensions["redis"]
        return client


class Secrets:
    """The app's SecretBox built from ENCRYPTION_KEY."""

    def init_app(self, app: Flask) -> None:
        """Build the SecretBox from the configured keys."""
        app.extensions["secret_box"] = SecretBox(app_config(app).ENCRYPTION_KEY)

    @property
    def box(self) -> SecretBox:
        """The current app's SecretBox."""
        box: SecretBox = current_app.extensions["secret_box"]
        return box


db = Database()
redis_conn = RedisConnection()
secrets = Secrets()
