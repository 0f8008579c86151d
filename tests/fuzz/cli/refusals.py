"""How a refused `flask pos` command is checked: no traceback, a non-zero exit naming the
problem, and nothing stored, queued or sent to Linkly (the snapshot before and after)."""

from __future__ import annotations

import traceback
from typing import Any

from click.testing import Result
from sqlalchemy import select

from bizproc_app.extensions import db, redis_conn
from bizproc_app.models import Payment, Terminal
from tests.fuzz.conftest import counts
from tests.helpers.jobs import queued_jobs


def snapshot(ctx: dict[str, Any]) -> dict[str, Any]:
    """Everything a refused command must leave as it was."""
    app = ctx["app"]
    with app.app_context():
        db.session.expire_all()
        terminals = [
            (t.id, t.name, t.active, t.shared, t.currency, t.secret_enc, t.user_ids, t.last_status)
            for t in db.session.scalars(select(Terminal).order_by(Terminal.id))
        ]
        payments = [
            (p.id, p.state, p.amount_cents, p.updated_at)
            for p in db.session.scalars(select(Payment).order_by(Payment.id))
        ]
        redis = redis_conn.client
        return {
            **counts(app),
            "terminals": terminals,
            "payment_rows": payments,
            "jobs": queued_jobs(redis),
            "kicks": len(redis.keys("kick:*")),
            "outside_requests": list(ctx["sent"]),
        }


def refused(ctx: dict[str, Any], args: list[str], words: tuple[str, ...], stdin: str = "") -> None:
    """Run `flask pos ARGS`; it must refuse cleanly, name the problem and change nothing."""
    before = snapshot(ctx)
    result: Result = (
        ctx["app"]
        .test_cli_runner()
        .invoke(
            args=["pos", *args], input=stdin, env={"LINKLY_PASSWORD": None, "LINKLY_SECRET": None}
        )
    )
    crash = "".join(traceback.format_exception(*result.exc_info)) if result.exc_info else ""
    assert result.exception is None or isinstance(result.exception, SystemExit), crash
    assert result.exit_code != 0, (args, result.output)
    assert "Traceback" not in result.output, result.output
    assert any(word in result.output.lower() for word in words), (args, words, result.output)
    assert snapshot(ctx) == before, (args, result.output)
