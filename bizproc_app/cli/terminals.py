"""The `flask pos` CLI group: terminal management (payment commands join the same group).

Each command prints what it did in human-readable lines; pair and add end with the new
terminal's bare id alone on the last line, for scripts. Expected errors exit 1 with a message.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import click
from flask.cli import AppGroup

from bizproc_app.extensions import app_config, db, redis_conn, secrets
from bizproc_app.linkly import LinklyClient
from bizproc_app.models import MAX_ID, Terminal
from bizproc_app.portals.access import find_portal
from bizproc_app.terminals.management import (
    TerminalError,
    add_terminal,
    assign_users,
    check_terminal,
    find_terminal,
    list_terminals,
    pair_terminal,
    remove_terminal,
    require_portal,
)
from bizproc_app.wiring.clients import linkly_client

pos_cli = AppGroup("pos", help="Linkly PIN pads (terminals) and payments.")

# Shared options, so later commands (pay, refund, status) spell them the same way.
portal_option = click.option(
    "--portal", "member_id", required=True, metavar="MEMBER_ID", help="Portal member_id."
)
terminal_option = click.option(
    "--terminal", "terminal_ref", required=True, metavar="ID", help="Terminal id."
)
users_option = click.option(
    "--user",
    "users",
    type=click.IntRange(1, MAX_ID),
    multiple=True,
    metavar="ID",
    help="Bitrix24 user id allowed to use the terminal (repeat for several).",
)
shared_option = click.option(
    "--shared", is_flag=True, help="Every user of the portal may use the terminal."
)
currency_option = click.option(
    "--currency", default="AUD", show_default=True, help="ISO 4217 code, upper-case."
)


@contextmanager
def cli_errors(*errors: type[Exception]) -> Iterator[None]:
    """Turn expected domain errors into a one-line message and exit code 1."""
    caught: tuple[type[Exception], ...] = (TerminalError, *errors)
    try:
        yield
    except caught as exc:
        raise click.ClickException(str(exc)) from None


def linkly() -> LinklyClient:
    """The app's Linkly client (bearer tokens cached encrypted in Redis)."""
    cfg = app_config()
    return linkly_client(cfg, redis_client=redis_conn.client, box=secrets.box)


def hidden_value(value: str | None, *, option: str, envvar: str, strip: bool) -> str:
    """Return a secret given on the command line, in the environment, or as `-` on stdin."""
    if value == "-":
        value = sys.stdin.readline().rstrip("\r\n")
    if value is not None and strip:
        value = value.strip()
    if not value:
        raise click.UsageError(f"{option} is required: give it, set {envvar}, or pass - for stdin")
    return value


def lookup_terminal(terminal_ref: str) -> Terminal:
    """Return the terminal named by --terminal."""
    return find_terminal(db.session, None, terminal_ref)


def describe(terminal: Terminal) -> str:
    """One tab-separated line: id, name, currency, shared, active, users, last status."""
    users = ",".join(str(u) for u in terminal.user_ids) or "-"
    seen = (
        f" at {utc(terminal.last_seen_at):%Y-%m-%d %H:%M:%S} UTC" if terminal.last_seen_at else ""
    )
    status = f"{terminal.last_status}{seen}" if terminal.last_status else "never tested"
    return "\t".join(
        [
            str(terminal.id),
            terminal.name,
            terminal.currency,
            f"shared={'yes' if terminal.shared else 'no'}",
            f"active={'yes' if terminal.active else 'no'}",
            f"users={users}",
            f"status={status}",
        ]
    )


def utc(moment: datetime) -> datetime:
    """The moment in UTC (SQLite hands back naive datetimes, already in UTC)."""
    return moment.astimezone(UTC) if moment.tzinfo else moment


def echo_created(terminal: Terminal, verb: str) -> None:
    """Print what was stored, then the bare id alone on the last line."""
    click.echo(
        f"{verb} terminal {terminal.id} {terminal.name!r} in portal {terminal.portal.member_id}"
    )
    click.echo(f"posId {terminal.pos_id}, currency {terminal.currency}")
    echo_users(terminal)
    click.echo(terminal.id)


def echo_users(terminal: Terminal) -> None:
    """Print who may use the terminal."""
    users = ", ".join(str(u) for u in terminal.user_ids) or "none"
    if terminal.shared:
        click.echo(f"shared with every user of the portal; assigned users: {users}")
    elif terminal.user_ids:
        click.echo(f"assigned users: {users}")
    else:
        click.echo("assigned users: none (not shared: nobody can use it until users are assigned)")


@pos_cli.command("terminal-pair")
@portal_option
@click.option("--name", required=True, help="Name shown to users, unique in the portal.")
@click.option("--username", required=True, help="Linkly Cloud username.")
@click.option(
    "--password",
    envvar="LINKLY_PASSWORD",
    help="Linkly Cloud password; prefer LINKLY_PASSWORD or - (stdin): arguments show in ps.",
)
@click.option("--pair-code", required=True, help="Pair code shown on the PIN pad.")
@users_option
@shared_option
@currency_option
def terminal_pair_command(
    member_id: str,
    name: str,
    username: str,
    password: str | None,
    pair_code: str,
    users: tuple[int, ...],
    shared: bool,
    currency: str,
) -> None:
    """Pair a PIN pad with Linkly Cloud and store it (the password is not kept)."""
    password = hidden_value(password, option="--password", envvar="LINKLY_PASSWORD", strip=False)
    with cli_errors():
        terminal = pair_terminal(
            db.session,
            linkly(),
            secrets.box,
            portal=require_portal(db.session, member_id),
            name=name,
            username=username,
            password=password,
            pair_code=pair_code.strip(),
            users=users,
            shared=shared,
            currency=currency,
        )
    echo_created(terminal, "paired")


@pos_cli.command("terminal-add")
@portal_option
@click.option("--name", required=True, help="Name shown to users, unique in the portal.")
@click.option(
    "--secret",
    envvar="LINKLY_SECRET",
    help="Linkly pairing secret; prefer LINKLY_SECRET or - (stdin): arguments show in ps.",
)
@users_option
@shared_option
@currency_option
def terminal_add_command(
    member_id: str,
    name: str,
    secret: str | None,
    users: tuple[int, ...],
    shared: bool,
    currency: str,
) -> None:
    """Register a PIN pad already paired elsewhere, from its Linkly secret."""
    secret = hidden_value(secret, option="--secret", envvar="LINKLY_SECRET", strip=True)
    with cli_errors():
        terminal = add_terminal(
            db.session,
            secrets.box,
            portal=require_portal(db.session, member_id),
            name=name,
            secret=secret,
            users=users,
            shared=shared,
            currency=currency,
        )
    click.echo(f"the secret was not checked: run `pos terminal-test --terminal {terminal.id}`")
    echo_created(terminal, "added")


@pos_cli.command("terminal-list")
@portal_option
def terminal_list_command(member_id: str) -> None:
    """List the portal's terminals, removed ones included."""
    with cli_errors():
        portal = find_portal(db.session, member_id)
        if portal is None:
            raise TerminalError(f"unknown portal {member_id!r}")
        terminals = list_terminals(db.session, portal)
    if not terminals:
        click.echo(f"portal {member_id} has no terminals")
    for terminal in terminals:
        click.echo(describe(terminal))


@pos_cli.command("terminal-assign")
@terminal_option
@click.option(
    "--user",
    "users",
    type=click.IntRange(1, MAX_ID),
    multiple=True,
    required=True,
    metavar="ID",
    help="Bitrix24 user id (repeat); replaces the assigned users.",
)
def terminal_assign_command(terminal_ref: str, users: tuple[int, ...]) -> None:
    """Replace the users assigned to a terminal with the given ones."""
    with cli_errors():
        terminal = lookup_terminal(terminal_ref)
        before = ", ".join(str(u) for u in terminal.user_ids) or "none"
        assign_users(db.session, terminal, users)
    click.echo(f"terminal {terminal.id} {terminal.name!r}: users were {before}")
    echo_users(terminal)


@pos_cli.command("terminal-test")
@terminal_option
def terminal_test_command(terminal_ref: str) -> None:
    """Ask the PIN pad for its status through Linkly and record the answer."""
    with cli_errors():
        terminal = lookup_terminal(terminal_ref)
        result = check_terminal(db.session, linkly(), secrets.box, terminal)
    click.echo(f"terminal {terminal.id} {terminal.name!r}: {terminal.last_status}")
    details = {
        "merchant": result.retailer_name,
        "bank": result.bank_description,
        "catid": result.catid,
        "serial": result.pinpad_serial_number,
    }
    shown = ", ".join(f"{k} {v}" for k, v in details.items() if v)
    if shown:
        click.echo(shown)


@pos_cli.command("terminal-remove")
@terminal_option
def terminal_remove_command(terminal_ref: str) -> None:
    """Deactivate a terminal and delete its secret (kept for audit; payments refer to it)."""
    with cli_errors():
        terminal = lookup_terminal(terminal_ref)
        name = terminal.name
        remove_terminal(db.session, terminal)
    click.echo(f"removed terminal {terminal.id} {name!r}: deactivated, secret deleted")
