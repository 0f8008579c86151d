"""Two runs of one robot call at once (the portal's Redis lock lost in a restart): one payment,
and the workflow is never told "error" for the run that lost the race.

Found by the fault campaign (`python -m bench.chaos`, seed 20261127): a Redis restart let two
call drains start the same call; the loser hit the invoice lock and reported status=error while
the winner's payment was charged.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bizproc_app.extensions import db, secrets
from bizproc_app.models import HandlerCall, Payment, Portal, Terminal
from bizproc_app.payments import robot_calls, starting
from bizproc_app.payments.starting import CrmContext

CRM = CrmContext(amount=Decimal("10.00"), currency="AUD", deal_id=4, invoice_id=31, title="Inv")


class Bitrix:
    """Records what would be sent to Bitrix24."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def call(self, method: str, params: dict[str, Any]) -> Any:
        self.sent.append((method, params))
        return True


def _call(app: Any) -> int:
    with app.app_context():
        portal = Portal(
            member_id="m" * 32,
            domain="shop.bitrix24.com",
            client_endpoint="https://shop.bitrix24.com/rest/",
            installed=True,
            auth_user_id=1,
        )
        db.session.add(portal)
        db.session.flush()
        terminal = Terminal(portal=portal, name="T1", shared=True)
        terminal.set_secret(secrets.box, "linkly-secret")
        call = HandlerCall(
            portal_id=portal.id,
            event_token="wf|act|ev",
            workflow_id="wf",
            code="linkly_pos_payment",
            document_id=["crm", "CCrmDocumentDeal", "DEAL_4"],
            properties={"invoice_id": 31, "terminal": "T1"},
        )
        db.session.add_all([terminal, call])
        db.session.commit()
        return call.id


def test_the_run_that_loses_the_race_marks_the_call_started_and_tells_nothing(
    app, monkeypatch
) -> None:
    call_id = _call(app)
    real_start = starting.start
    bitrix = Bitrix()

    def other_run_wins_first(session: Session, cfg: Any, request: Any) -> Any:
        # This run has passed its "payment already made?" check; now the other run commits.
        monkeypatch.setattr(starting, "start", real_start)
        with Session(db.engine, expire_on_commit=False) as other:
            assert robot_calls.start(other, cfg, other.get(HandlerCall, call_id), bitrix, CRM)
        return real_start(session, cfg, request)

    monkeypatch.setattr(starting, "start", other_run_wins_first)
    with app.app_context():
        cfg = app.config["APP_CONFIG"]
        assert (
            robot_calls.start(db.session, cfg, db.session.get(HandlerCall, call_id), bitrix, CRM)
            is None
        )
        payments = db.session.scalars(select(Payment)).all()
        call = db.session.get(HandlerCall, call_id)
        assert len(payments) == 1
        assert call.state == "started" and call.outcome == {"payment_id": payments[0].id}
        assert bitrix.sent == []  # no bizproc.event.send with status=error
        assert db.session.scalar(select(func.count()).select_from(Payment)) == 1
