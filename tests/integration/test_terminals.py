"""Terminal management and the `flask pos terminal-*` CLI against the Linkly simulator.

Real HTTP on loopback to an in-process simulator, the app's database from the fixtures; the
simulator's control API (`/_sim/...`) only mints pair codes, changes PIN pads and arms faults.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator

import pytest
import requests
from click.testing import Result
from flask import Flask
from sqlalchemy import select

from bizproc_app.extensions import db, secrets
from bizproc_app.models import Base, JournalEntry, Payment, Portal, Terminal
from bizproc_app.terminals import management
from bizproc_app.terminals.management import TerminalError
from simulators.linkly import LinklyControl, LinklySimulator, SimulatorConfig

USERNAME = "sim-user"
PASSWORD = "Sup3r-s3cret-pa55word"
PAIR_CODE = "123456"
MEMBER = "member-one"
OTHER_MEMBER = "member-two"
GONE_MEMBER = "member-gone"


@pytest.fixture
def sim() -> Iterator[LinklySimulator]:
    """A Linkly simulator on a free loopback port, PIN pad 1 waiting with PAIR_CODE."""
    simulator = LinklySimulator(
        SimulatorConfig(username=USERNAME, password=PASSWORD), pair_code=PAIR_CODE
    )
    simulator.start(host="127.0.0.1", port=0)
    yield simulator
    simulator.stop()


@pytest.fixture
def app(make_app, sim: LinklySimulator, monkeypatch: pytest.MonkeyPatch) -> Flask:
    """The app talking to the simulator, with portals: installed, another, uninstalled."""
    monkeypatch.delenv("LINKLY_PASSWORD", raising=False)
    monkeypatch.delenv("LINKLY_SECRET", raising=False)
    app = make_app(LINKLY_AUTH_URL=sim.base_url, LINKLY_API_URL=sim.base_url)
    with app.app_context():
        for member_id, installed in ((MEMBER, True), (OTHER_MEMBER, True), (GONE_MEMBER, False)):
            db.session.add(
                Portal(member_id=member_id, domain=f"{member_id}.bitrix24.com", installed=installed)
            )
        db.session.commit()
    return app


def pos(app: Flask, *args: str, input: str | None = None, env: dict | None = None) -> Result:
    """Run `flask pos ...` inside the app."""
    return app.test_cli_runner().invoke(args=["pos", *args], input=input, env=env)


def new_pair_code(sim: LinklySimulator) -> tuple[str, str]:
    """Create another simulated PIN pad; return its id and fresh pair code."""
    with LinklyControl(sim.base_url, timeout=5) as control:
        pad = control.add_pinpad()
    return pad["id"], pad["pair_code"]


def pair(app: Flask, code: str, name: str = "Front desk", *extra: str) -> Result:
    """Pair a PIN pad through the CLI, password on the command line."""
    return pos(
        app,
        "terminal-pair",
        *("--portal", MEMBER, "--name", name, "--username", USERNAME),
        *("--password", PASSWORD, "--pair-code", code),
        *extra,
    )


def add(app: Flask, name: str, *extra: str, secret: str = "some-secret") -> int:  # noqa: S107
    """Register a terminal from a secret through the CLI; return its id."""
    args = ("--portal", MEMBER, "--name", name, "--secret", "-", *extra)
    result = pos(app, "terminal-add", *args, input=secret)
    assert result.exit_code == 0, result.output
    return int(result.stdout.splitlines()[-1])


def terminal(app: Flask, terminal_id: int) -> Terminal:
    """Load a terminal with its users (detached)."""
    with app.app_context():
        row = db.session.get(Terminal, terminal_id)
        assert row is not None
        _ = row.user_ids, row.portal
        return row


def every_stored_value(app: Flask) -> str:
    """Every row of every table, as text."""
    with app.app_context(), db.engine.connect() as conn:
        return "\n".join(
            repr(row)
            for table in Base.metadata.sorted_tables
            for row in conn.execute(select(table))
        )


# --- pairing ---------------------------------------------------------------------------------


def test_pair_stores_encrypted_secret_and_new_pos_id(
    app: Flask, sim: LinklySimulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    result = pair(app, PAIR_CODE, "Front desk", "--user", "7", "--user", "3", "--currency", "NZD")

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[-1].isdigit()
    assert "paired terminal" in lines[0] and "'Front desk'" in lines[0]
    row = terminal(app, int(lines[-1]))
    assert (row.name, row.currency, row.shared, row.active) == ("Front desk", "NZD", False, True)
    assert row.user_ids == [3, 7]
    assert uuid.UUID(row.pos_id).version == 4
    assert row.pos_id in result.stdout
    with app.app_context():
        secret = row.secret(secrets.box)
    assert secret and row.secret_enc and secret not in row.secret_enc
    assert sim.pinpad("1").paired
    stored = every_stored_value(app)
    assert PASSWORD not in stored and secret not in stored
    assert PASSWORD not in result.output and secret not in result.output
    assert PASSWORD not in caplog.text and secret not in caplog.text
    with app.app_context():
        kinds = db.session.scalars(select(JournalEntry.kind)).all()
    assert "terminal.paired" in kinds


def test_pair_with_wrong_code_stores_nothing(app: Flask) -> None:
    result = pair(app, "999999")

    assert result.exit_code == 1
    assert "Linkly refused the pairing" in result.output
    assert "pair code" in result.output and "Traceback" not in result.output
    assert PASSWORD not in result.output
    with app.app_context():
        assert db.session.scalars(select(Terminal)).all() == []


def test_pair_password_from_environment(app: Flask) -> None:
    result = pos(
        app,
        "terminal-pair",
        *("--portal", MEMBER, "--name", "Env", "--username", USERNAME, "--pair-code", PAIR_CODE),
        env={"LINKLY_PASSWORD": PASSWORD},
    )

    assert result.exit_code == 0, result.output
    assert terminal(app, int(result.stdout.splitlines()[-1])).name == "Env"
    assert PASSWORD not in result.output


def test_pair_password_from_stdin(app: Flask) -> None:
    result = pos(
        app,
        "terminal-pair",
        *("--portal", MEMBER, "--name", "Stdin", "--username", USERNAME),
        *("--pair-code", PAIR_CODE, "--password", "-", "--shared"),
        input=f"{PASSWORD}\n",
    )

    assert result.exit_code == 0, result.output
    row = terminal(app, int(result.stdout.splitlines()[-1]))
    assert row.shared and row.user_ids == []
    assert PASSWORD not in result.output


def test_pair_without_password_is_a_usage_error(app: Flask) -> None:
    result = pos(
        app,
        "terminal-pair",
        *("--portal", MEMBER, "--name", "X", "--username", USERNAME, "--pair-code", PAIR_CODE),
    )

    assert result.exit_code == 2
    assert "--password is required" in result.output and "LINKLY_PASSWORD" in result.output


def test_each_pairing_gets_its_own_pos_id(app: Flask, sim: LinklySimulator) -> None:
    first = pair(app, PAIR_CODE, "One")
    _, code = new_pair_code(sim)
    second = pair(app, code, "Two")

    assert first.exit_code == second.exit_code == 0, first.output + second.output
    ids = [int(r.stdout.splitlines()[-1]) for r in (first, second)]
    assert terminal(app, ids[0]).pos_id != terminal(app, ids[1]).pos_id


# --- add, list, assign ----------------------------------------------------------------------


def test_add_with_secret_from_stdin(app: Flask) -> None:
    result = pos(
        app,
        "terminal-add",
        *("--portal", MEMBER, "--name", "Back office", "--secret", "-", "--user", "5"),
        input="  the-linkly-secret  \n",
    )

    assert result.exit_code == 0, result.output
    row = terminal(app, int(result.stdout.splitlines()[-1]))
    with app.app_context():
        assert row.secret(secrets.box) == "the-linkly-secret"
    assert "the-linkly-secret" not in result.output
    assert "the-linkly-secret" not in every_stored_value(app)
    assert row.user_ids == [5]


def test_add_secret_from_environment(app: Flask) -> None:
    result = pos(
        app,
        "terminal-add",
        *("--portal", MEMBER, "--name", "Env"),
        env={"LINKLY_SECRET": "env-secret"},
    )

    assert result.exit_code == 0, result.output
    with app.app_context():
        assert terminal(app, int(result.stdout.splitlines()[-1])).secret(secrets.box) == (
            "env-secret"
        )
    assert "env-secret" not in result.output


def test_list_shows_one_line_per_terminal(app: Flask) -> None:
    first = add(app, "Counter", "--user", "2", "--user", "1")
    second = add(app, "Shared", "--shared", "--currency", "NZD")
    pos(app, "terminal-add", "--portal", OTHER_MEMBER, "--name", "Elsewhere", "--secret", "s")

    result = pos(app, "terminal-list", "--portal", MEMBER)

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"{first}\tCounter\tAUD\tshared=no\tactive=yes\tusers=1,2\tstatus=never tested",
        f"{second}\tShared\tNZD\tshared=yes\tactive=yes\tusers=-\tstatus=never tested",
    ]
    empty = pos(app, "terminal-list", "--portal", GONE_MEMBER)
    assert empty.exit_code == 0 and "has no terminals" in empty.stdout


def test_assign_replaces_the_users(app: Flask) -> None:
    terminal_id = add(app, "Counter", "--user", "1", "--user", "2")

    result = pos(
        app, "terminal-assign", "--terminal", str(terminal_id), "--user", "2", "--user", "9"
    )

    assert result.exit_code == 0, result.output
    assert "users were 1, 2" in result.stdout and "assigned users: 2, 9" in result.stdout
    assert terminal(app, terminal_id).user_ids == [2, 9]


def test_assign_needs_a_user(app: Flask) -> None:
    terminal_id = add(app, "Counter")

    result = pos(app, "terminal-assign", "--terminal", str(terminal_id))

    assert result.exit_code == 2
    assert "--user" in result.output


# --- test ------------------------------------------------------------------------------------


def test_test_records_status(app: Flask, sim: LinklySimulator) -> None:
    terminal_id = int(pair(app, PAIR_CODE).stdout.splitlines()[-1])

    result = pos(app, "terminal-test", "--terminal", str(terminal_id))

    assert result.exit_code == 0, result.output
    assert "logged on" in result.stdout
    row = terminal(app, terminal_id)
    assert row.last_status == "logged on" and row.last_seen_at is not None

    requests.patch(f"{sim.base_url}/_sim/pinpads/1", json={"logged_on": False}, timeout=5)
    result = pos(app, "terminal-test", "--terminal", str(terminal_id))
    assert result.exit_code == 0, result.output
    assert terminal(app, terminal_id).last_status == "not logged on"
    listing = pos(app, "terminal-list", "--portal", MEMBER).stdout
    assert "status=not logged on at " in listing and listing.rstrip().endswith(" UTC")


def test_test_offline_pinpad_is_a_clear_error(app: Flask, sim: LinklySimulator) -> None:
    terminal_id = int(pair(app, PAIR_CODE).stdout.splitlines()[-1])
    requests.post(
        f"{sim.base_url}/_sim/faults",
        json={"fault": "pinpad_offline", "scope": "next", "ops": ["status"]},
        timeout=5,
    ).raise_for_status()

    result = pos(app, "terminal-test", "--terminal", str(terminal_id))

    assert result.exit_code == 1
    assert "failed its test" in result.output and "PF PINPAD OFFLINE" in result.output
    assert "Traceback" not in result.output
    row = terminal(app, terminal_id)
    assert row.last_status == "PIN pad answered PF PINPAD OFFLINE"
    assert row.last_seen_at is None


def test_test_unknown_secret_is_a_clear_error(app: Flask) -> None:
    terminal_id = add(app, "Bogus", secret="not-a-linkly-secret")

    result = pos(app, "terminal-test", "--terminal", str(terminal_id))

    assert result.exit_code == 1
    assert "refused the terminal's secret: pair the PIN pad again" in result.output
    assert "not-a-linkly-secret" not in result.output
    assert "refused" in terminal(app, terminal_id).last_status


# --- remove ----------------------------------------------------------------------------------


def add_payment(app: Flask, terminal_id: int, state: str) -> None:
    """Store a payment of the terminal directly."""
    with app.app_context():
        portal_id = db.session.get(Terminal, terminal_id).portal_id
        db.session.add(
            Payment(
                portal_id=portal_id,
                terminal_id=terminal_id,
                kind="purchase",
                amount_cents=1000,
                currency="AUD",
                state=state,
                source="cli",
            )
        )
        db.session.commit()


def test_remove_refused_while_a_payment_runs(app: Flask) -> None:
    terminal_id = add(app, "Counter")
    add_payment(app, terminal_id, "in_progress")

    result = pos(app, "terminal-remove", "--terminal", str(terminal_id))

    assert result.exit_code == 1
    assert "payment in progress" in result.output
    row = terminal(app, terminal_id)
    assert row.active and row.secret_enc


def test_remove_deactivates_and_deletes_the_secret(app: Flask) -> None:
    terminal_id = add(app, "Counter", "--shared")
    add_payment(app, terminal_id, "approved")

    result = pos(app, "terminal-remove", "--terminal", str(terminal_id))

    assert result.exit_code == 0, result.output
    assert f"removed terminal {terminal_id} 'Counter'" in result.stdout
    row = terminal(app, terminal_id)
    assert not row.active and row.secret_enc is None
    # The name is free again; the old row stays, renamed, for its payments.
    again = add(app, "Counter")
    assert again != terminal_id
    listing = pos(app, "terminal-list", "--portal", MEMBER).stdout
    assert f"{terminal_id}\tCounter (removed #{terminal_id})\t" in listing
    assert "active=no" in listing
    for command in ("terminal-remove", "terminal-test"):
        result = pos(app, command, "--terminal", str(terminal_id))
        assert result.exit_code == 1 and "has been removed" in result.output


# --- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--portal", "nope", "--name", "X"), "unknown portal 'nope'"),
        (("--portal", GONE_MEMBER, "--name", "X"), f"portal {GONE_MEMBER} is not installed"),
        (("--portal", MEMBER, "--name", "Dup"), "already has a terminal named 'Dup'"),
        (("--portal", MEMBER, "--name", "  "), "name must be 1 to 100 characters"),
        (("--portal", MEMBER, "--name", "x" * 101), "name must be 1 to 100 characters"),
        (("--portal", MEMBER, "--name", "a\tb"), "control characters"),
        (("--portal", MEMBER, "--name", "X", "--currency", "aud"), "three upper-case letters"),
        (("--portal", MEMBER, "--name", "X", "--currency", "AUDD"), "three upper-case letters"),
        (("--portal", MEMBER, "--name", "X", "--user", "0"), "not in the range 1<=x<=2147483647"),
        (("--portal", MEMBER, "--name", "X", "--user", "-4"), "not in the range"),
        (("--portal", MEMBER, "--name", "X", "--user", "9" * 12), "not in the range"),
    ],
)
def test_add_validation(app: Flask, args: tuple[str, ...], message: str) -> None:
    add(app, "Dup")

    result = pos(app, "terminal-add", *args, "--secret", "a-secret")

    # Domain errors exit 1; click's own usage errors (an id out of range) exit 2.
    assert result.exit_code == (2 if "not in the range" in message else 1), result.output
    assert message in result.output and "Traceback" not in result.output
    with app.app_context():
        assert db.session.scalars(select(Terminal.name)).all() == ["Dup"]


def test_pair_validation_happens_before_linkly(app: Flask, sim: LinklySimulator) -> None:
    add(app, "Dup")

    result = pair(app, PAIR_CODE, "Dup")

    assert result.exit_code == 1 and "already has a terminal named 'Dup'" in result.output
    assert not sim.pinpad("1").paired  # the single-use pair code was not spent


@pytest.mark.parametrize("command", ["terminal-test", "terminal-remove"])
def test_unknown_terminal(app: Flask, command: str) -> None:
    result = pos(app, command, "--terminal", "4242")

    assert result.exit_code == 1 and "unknown terminal 4242" in result.output


def test_unknown_terminal_on_assign_and_unknown_portal_on_list(app: Flask) -> None:
    assign = pos(app, "terminal-assign", "--terminal", "4242", "--user", "1")
    listing = pos(app, "terminal-list", "--portal", "nope")

    assert assign.exit_code == 1 and "unknown terminal 4242" in assign.output
    assert listing.exit_code == 1 and "unknown portal 'nope'" in listing.output


# --- domain ----------------------------------------------------------------------------------


def test_usable_terminals_shared_or_assigned(app: Flask) -> None:
    shared = add(app, "Shared", "--shared")
    mine = add(app, "Mine", "--user", "5", "--user", "6")
    theirs = add(app, "Theirs", "--user", "6")
    removed = add(app, "Removed", "--shared")
    assert pos(app, "terminal-remove", "--terminal", str(removed)).exit_code == 0
    pos(
        app,
        "terminal-add",
        "--portal",
        OTHER_MEMBER,
        "--name",
        "Other",
        "--shared",
        "--secret",
        "s",
    )

    with app.app_context():
        portal = management.require_portal(db.session, MEMBER)
        usable = {
            user: [t.id for t in management.usable_terminals(db.session, portal, user)]
            for user in (5, 6, 7)
        }
        with pytest.raises(TerminalError, match="positive integers"):
            management.usable_terminals(db.session, portal, 0)

    assert usable[5] == [mine, shared]
    assert sorted(usable[6]) == sorted([mine, shared, theirs])
    assert usable[7] == [shared]


def test_find_terminal_by_id_or_name(app: Flask) -> None:
    terminal_id = add(app, "Counter")

    with app.app_context():
        portal = management.require_portal(db.session, MEMBER)
        other = management.require_portal(db.session, OTHER_MEMBER)
        assert management.find_terminal(db.session, None, terminal_id).id == terminal_id
        assert management.find_terminal(db.session, portal, "Counter").id == terminal_id
        with pytest.raises(TerminalError, match="unknown terminal"):
            management.find_terminal(db.session, other, terminal_id)
        with pytest.raises(TerminalError, match="no active terminal named 'Nope'"):
            management.find_terminal(db.session, portal, "Nope")
        with pytest.raises(TerminalError, match="numeric id"):
            management.find_terminal(db.session, None, "Counter")


def test_assign_with_empty_list_clears(app: Flask) -> None:
    terminal_id = add(app, "Counter", "--user", "3")

    with app.app_context():
        row = db.session.get(Terminal, terminal_id)
        management.assign_users(db.session, row, [])

    assert terminal(app, terminal_id).user_ids == []
