"""The foundation: health, migrations in step with the models, secrets encrypted at rest."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect, select, text

from bizproc_app.extensions import db, make_engine, secrets
from bizproc_app.models import Portal, Terminal
from bizproc_app.storage import migrate
from tests.helpers.loopback import free_port


def test_healthz_reports_both_dependencies_up(client) -> None:
    resp = client.get("/healthz")
    assert resp.status_code == 200
    assert resp.get_json() == {
        "status": "ok",
        "checks": {"database": {"status": "ok"}, "redis": {"status": "ok"}},
    }


def test_healthz_is_503_when_redis_is_down(make_app) -> None:
    app = make_app(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    resp = app.test_client().get("/healthz")
    body = resp.get_json()
    assert resp.status_code == 503
    assert body["status"] == "unavailable"
    assert body["checks"]["redis"]["status"] == "down"
    assert body["checks"]["database"] == {"status": "ok"}


def test_healthz_is_503_when_the_database_is_down(make_app, tmp_path) -> None:
    missing = tmp_path / "no-such-dir" / "db.sqlite3"
    app = make_app(DATABASE_URL=f"sqlite:///{missing}")
    resp = app.test_client().get("/healthz")
    assert resp.status_code == 503
    assert resp.get_json()["checks"]["database"]["status"] == "down"


def test_migrations_match_the_models(database_url: str) -> None:
    engine = make_engine(database_url)
    assert migrate.pending_changes(engine) == []
    assert {"portals", "terminals"} <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_migrations_downgrade_and_upgrade_again(database_url: str) -> None:
    engine = make_engine(database_url)
    migrate.downgrade(engine, "base")
    assert "terminals" not in inspect(engine).get_table_names()
    migrate.upgrade(engine)
    assert migrate.pending_changes(engine) == []
    engine.dispose()


def _dump(database_url: str) -> str:
    """Every value of every table, as text, as someone who stole the database would see it."""
    engine = make_engine(database_url)
    chunks: list[str] = []
    with engine.connect() as conn:
        for table in inspect(engine).get_table_names():
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):  # noqa: S608
                chunks.extend(str(v) for v in row)
    engine.dispose()
    if database_url.startswith("sqlite:///"):
        path = Path(database_url.removeprefix("sqlite:///"))
        # The main file and its write-ahead log, byte for byte.
        for file in path.parent.glob(path.name + "*"):
            chunks.append(file.read_bytes().decode("latin-1"))
    return "\n".join(chunks)


def test_secrets_are_not_stored_in_plaintext(app, database_url: str) -> None:
    linkly_secret = "eyJhbGciOi.linkly-pairing-secret-PLAINTEXT"
    access, refresh = "access-token-PLAINTEXT-1234", "refresh-token-PLAINTEXT-5678"
    with app.app_context():
        portal = Portal(member_id="m-1", domain="shop.bitrix24.com")
        portal.set_tokens(secrets.box, access=access, refresh=refresh)
        terminal = Terminal(portal=portal, name="Front till")
        terminal.set_secret(secrets.box, linkly_secret)
        db.session.add_all([portal, terminal])
        db.session.commit()
        stored = db.session.scalars(select(Terminal)).one()
        assert stored.secret(secrets.box) == linkly_secret
    dump = _dump(database_url)
    assert "shop.bitrix24.com" in dump  # the dump really holds the rows
    for plaintext in (linkly_secret, access, refresh):
        assert plaintext not in dump
