"""Terminals: pair Linkly PIN pads, register secrets, assign Bitrix24 users, test and remove.

Plain functions over a SQLAlchemy Session, a SecretBox and a LinklyClient; no Flask. Every
mutation commits and journals what it did; secrets and passwords never reach the journal,
the log or an error message.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterable
from typing import NoReturn

from sqlalchemy import exists, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bizproc_app.linkly import (
    LinklyClient,
    LinklyError,
    LinklyUnavailable,
    PairingRejected,
    SecretRejected,
    StatusResult,
    TerminalCredentials,
)
from bizproc_app.models import (
    ACTIVE_STATES,
    MAX_ID,
    Payment,
    Portal,
    Terminal,
    TerminalUser,
    utcnow,
)
from bizproc_app.portals.access import find_portal, journal
from bizproc_app.storage.secret_box import SecretBox, SecretBoxError

log = logging.getLogger(__name__)

NAME_MAX = 100
_CURRENCY = re.compile(r"[A-Z]{3}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")  # C0, DEL, C1, line separators


class TerminalError(Exception):
    """A terminal operation was refused; the message names the problem and is safe to show."""


def require_portal(session: Session, member_id: str) -> Portal:
    """Return the installed portal with this member id."""
    return _installed(find_portal(session, member_id), member_id)


def pair_terminal(
    session: Session,
    linkly: LinklyClient,
    box: SecretBox,
    *,
    portal: Portal | None,
    name: str,
    username: str,
    password: str,
    pair_code: str,
    users: Iterable[int] = (),
    shared: bool = False,
    currency: str = "AUD",
) -> Terminal:
    """Pair a PIN pad with Linkly and store it; the password is used once and never kept."""
    portal = _installed(portal)
    name, user_ids = _check_new(session, portal, name, users, currency)
    if not (username and password and pair_code):
        raise TerminalError("username, password and pair code are all required to pair")
    # Validate everything first: a pair code is single-use, so Linkly is asked last.
    try:
        secret = linkly.pair(username=username, password=password, pair_code=pair_code)
    except PairingRejected:
        raise TerminalError(
            "Linkly refused the pairing: check the username, password and pair code "
            "(codes expire after about 3 minutes)"
        ) from None
    except LinklyError as exc:
        raise TerminalError(f"pairing failed, nothing was stored: {exc}") from None
    return _create(session, box, portal, name, secret, user_ids, shared, currency, "paired")


def add_terminal(
    session: Session,
    box: SecretBox,
    *,
    portal: Portal | None,
    name: str,
    secret: str,
    users: Iterable[int] = (),
    shared: bool = False,
    currency: str = "AUD",
) -> Terminal:
    """Register a PIN pad already paired elsewhere, from its Linkly secret."""
    portal = _installed(portal)
    name, user_ids = _check_new(session, portal, name, users, currency)
    secret = (secret or "").strip()
    if not secret:
        raise TerminalError("the Linkly secret is empty")
    return _create(session, box, portal, name, secret, user_ids, shared, currency, "added")


def list_terminals(session: Session, portal: Portal | None) -> list[Terminal]:
    """Return every terminal of the portal, removed ones included, by id."""
    if portal is None:
        raise TerminalError("unknown portal")
    return list(
        session.scalars(
            select(Terminal).where(Terminal.portal_id == portal.id).order_by(Terminal.id)
        )
    )


def find_terminal(session: Session, portal: Portal | None, ref: int | str) -> Terminal:
    """Return a terminal by numeric id (within the portal when given) or by active name."""
    text = str(ref).strip()
    if text.isascii() and text.isdigit() and len(text) <= len(str(MAX_ID)):
        terminal = session.get(Terminal, int(text)) if int(text) <= MAX_ID else None
        if terminal is None or (portal is not None and terminal.portal_id != portal.id):
            raise TerminalError(f"unknown terminal {text}")
        return terminal
    if portal is None:
        raise TerminalError(f"terminal {text!r}: give its numeric id, or a portal to find a name")
    if _CONTROL.search(text):  # no stored name has one (and PostgreSQL refuses NUL)
        raise TerminalError(f"no active terminal named {text!r} in portal {portal.member_id}")
    terminal = session.scalar(
        select(Terminal).where(
            Terminal.portal_id == portal.id, Terminal.name == text, Terminal.active
        )
    )
    if terminal is None:
        raise TerminalError(f"no active terminal named {text!r} in portal {portal.member_id}")
    return terminal


def assign_users(session: Session, terminal: Terminal, users: Iterable[int]) -> Terminal:
    """Replace the terminal's assigned users with exactly these (an empty list clears them)."""
    _require_active(terminal)
    wanted = _user_ids(users)
    before = terminal.user_ids
    # Keep rows that stay: deleting and re-inserting the same key in one flush is fragile.
    for row in list(terminal.users):
        if row.user_id not in wanted:
            terminal.users.remove(row)
    for user_id in sorted(set(wanted) - set(before)):
        terminal.users.append(TerminalUser(user_id=user_id))
    journal(
        session,
        "terminal.users_assigned",
        portal=terminal.portal,
        subject=str(terminal.id),
        before=before,
        users=wanted,
    )
    session.commit()
    return terminal


def check_terminal(
    session: Session, linkly: LinklyClient, box: SecretBox, terminal: Terminal
) -> StatusResult:
    """Ask the PIN pad for its status; record last_status (and last_seen_at when it answered)."""
    _require_active(terminal)
    try:
        credentials = TerminalCredentials(terminal.secret(box), terminal.pos_id)
    except (LookupError, SecretBoxError, ValueError):
        raise TerminalError(
            f"terminal {terminal.id} {terminal.name!r} has no usable secret: pair it again"
        ) from None
    try:
        result = linkly.status(credentials=credentials)
    except LinklyError as exc:
        _test_failed(session, terminal, _linkly_problem(exc))
    if not result.success:
        text = f"{result.response_code} {result.response_text.strip()}".strip()
        _test_failed(session, terminal, f"PIN pad answered {text}")
    terminal.last_status = "logged on" if result.logged_on else "not logged on"
    terminal.last_seen_at = utcnow()
    _journal_test(session, terminal, ok=True)
    session.commit()
    return result


def remove_terminal(session: Session, terminal: Terminal) -> None:
    """Deactivate the terminal and delete its secret; refused while one of its payments runs.

    The row stays for audit (payments reference it); it is renamed so its name can be reused.
    """
    _require_active(terminal)
    busy = session.scalar(
        select(Payment.id).where(
            Payment.terminal_id == terminal.id, Payment.state.in_(ACTIVE_STATES)
        )
    )
    if busy is not None:
        raise TerminalError(
            f"terminal {terminal.id} {terminal.name!r} has a payment in progress ({busy}): "
            "wait for it to finish"
        )
    name = terminal.name
    # Conditional: a payment claiming the PIN pad at this moment wins and removal is refused.
    done = session.execute(
        update(Terminal)
        .where(Terminal.id == terminal.id, Terminal.active, Terminal.active_payment_id.is_(None))
        .values(active=False, secret_enc=None, name=f"{name[:80]} (removed #{terminal.id})")
    )
    if done.rowcount != 1:
        session.rollback()
        raise TerminalError(f"terminal {terminal.id} {name!r} is busy with a payment: try later")
    journal(
        session, "terminal.removed", portal=terminal.portal, subject=str(terminal.id), name=name
    )
    session.commit()
    session.refresh(terminal)
    log.info("terminal %s removed", terminal.id)


def usable_terminals(session: Session, portal: Portal, user_id: int) -> list[Terminal]:
    """Return the portal's active terminals that are shared or assigned to this user."""
    (user_id,) = _user_ids([user_id])
    if not portal.installed:
        return []
    assigned = exists().where(
        TerminalUser.terminal_id == Terminal.id, TerminalUser.user_id == user_id
    )
    query = select(Terminal).where(
        Terminal.portal_id == portal.id, Terminal.active, or_(Terminal.shared, assigned)
    )
    return list(session.scalars(query.order_by(Terminal.name)))


def _test_failed(session: Session, terminal: Terminal, error: str) -> NoReturn:
    terminal.last_status = error[:255]
    _journal_test(session, terminal, ok=False)
    session.commit()
    raise TerminalError(f"terminal {terminal.id} {terminal.name!r} failed its test: {error}")


def _journal_test(session: Session, terminal: Terminal, *, ok: bool) -> None:
    journal(
        session,
        "terminal.tested",
        portal=terminal.portal,
        subject=str(terminal.id),
        ok=ok,
        status=terminal.last_status,
    )


def _linkly_problem(exc: LinklyError) -> str:
    if isinstance(exc, SecretRejected):
        return "Linkly refused the terminal's secret: pair the PIN pad again"
    if isinstance(exc, LinklyUnavailable):
        return f"Linkly is unavailable ({exc.reason or exc}): try again later"
    return str(exc)


def _installed(portal: Portal | None, member_id: str = "") -> Portal:
    if portal is None:
        raise TerminalError(f"unknown portal {member_id!r}" if member_id else "unknown portal")
    if not portal.installed:
        raise TerminalError(f"portal {portal.member_id} is not installed")
    return portal


def _require_active(terminal: Terminal) -> None:
    if not terminal.active:
        raise TerminalError(f"terminal {terminal.id} {terminal.name!r} has been removed")


def _check_new(
    session: Session, portal: Portal, name: str, users: Iterable[int], currency: str
) -> tuple[str, list[int]]:
    name = (name or "").strip()
    if not 1 <= len(name) <= NAME_MAX:
        raise TerminalError(f"the name must be 1 to {NAME_MAX} characters")
    if _CONTROL.search(name):
        raise TerminalError("the name must not contain control characters (tabs, newlines)")
    if not isinstance(currency, str) or not _CURRENCY.fullmatch(currency):
        raise TerminalError(f"currency must be three upper-case letters such as AUD: {currency!r}")
    user_ids = _user_ids(users)
    _require_unique_name(session, portal, name)
    return name, user_ids


def _require_unique_name(session: Session, portal: Portal, name: str) -> None:
    taken = session.scalar(
        select(Terminal.id).where(
            Terminal.portal_id == portal.id, Terminal.name == name, Terminal.active
        )
    )
    if taken is not None:
        raise TerminalError(
            f"portal {portal.member_id} already has a terminal named {name!r} (id {taken})"
        )


def _user_ids(users: Iterable[int]) -> list[int]:
    ids = list(users)
    for user_id in ids:
        if isinstance(user_id, bool) or not isinstance(user_id, int) or not 0 < user_id <= MAX_ID:
            raise TerminalError(f"user ids must be positive integers: {user_id!r}")
    return sorted(set(ids))


def _create(
    session: Session,
    box: SecretBox,
    portal: Portal,
    name: str,
    secret: str,
    user_ids: list[int],
    shared: bool,
    currency: str,
    how: str,
) -> Terminal:
    terminal = Terminal(
        portal=portal,
        name=name,
        pos_id=str(uuid.uuid4()),
        currency=currency,
        shared=bool(shared),
        active=True,
        users=[TerminalUser(user_id=u) for u in user_ids],
    )
    terminal.set_secret(box, secret)
    session.add(terminal)
    try:
        session.flush()
    except IntegrityError:
        # Another admin stored the same name between our check and this insert.
        session.rollback()
        raise TerminalError(
            f"portal {portal.member_id} already has a terminal named {name!r}"
        ) from None
    journal(
        session,
        f"terminal.{how}",
        portal=portal,
        subject=str(terminal.id),
        name=name,
        pos_id=terminal.pos_id,
        currency=currency,
        shared=bool(shared),
        users=user_ids,
    )
    session.commit()
    log.info("terminal %s %s for portal %s", terminal.id, how, portal.member_id)
    return terminal
