"""The campaign's inputs: what the app accepts (the oracle that keeps valid input out), the
hypothesis strategies of bad and good values, and the argument lists built from them.

Inputs the app accepts by design (Python's Decimal and int grammars: "1_000", "+5", " 5 ",
non-ASCII digits) are left out.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from hypothesis import strategies as st

from bizproc_app.linkly.money import MAX_CENTS
from bizproc_app.models import MAX_ID
from bizproc_app.terminals.management import NAME_MAX

OTHER_MEMBER, GONE_MEMBER = "b" * 32, "c" * 32

# --- What the app accepts, as the oracle that keeps valid input out of the campaign -------


def charged_cents(text: str) -> int | None:
    """The cents `--amount TEXT` would charge, or None when the app must refuse it."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    if not value.is_finite() or not -12 < value.adjusted() < 12:
        return None
    cents = value * 100
    if cents != cents.to_integral_value() or not 1 <= cents <= MAX_CENTS:
        return None
    return int(cents)


def int_option(text: str) -> int | None:
    """What click's IntRange(1, MAX_ID) makes of an option value, or None when it refuses."""
    try:
        value = int(text)
    except ValueError:
        return None
    return value if 1 <= value <= MAX_ID else None


def terminal_ref(text: str) -> int | str | None:
    """What find_terminal looks up: an id, a name, or None for digits int() chokes on (bug)."""
    text = text.strip()
    if not text.isdigit():
        return text
    try:
        return int(text)
    except ValueError:
        return None


junk = st.text(max_size=40)
BAD_AMOUNTS = [
    *("", " ", "0", "0.00", "-0", "-1", "-0.01", "0.001", "1.234", "10.005", "1e-3", "10,50"),
    *("NaN", "-NaN", "sNaN", "Infinity", "-Infinity", "inf", "1.2.3", "$10", "10 AUD", "1O.00"),
    *("0x10", "10000000.00", "9999999.991", "99999999999", "1e10", "1e4000", "10.00 10.00"),
]
PAY_DEFECTS = [
    *("portal", "uninstalled", "terminal", "other-portal", "removed", "not-assigned"),
    *("currency", "user"),
]
amount_text = st.one_of(
    st.sampled_from(BAD_AMOUNTS),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.one_of(st.integers(max_value=0), st.integers(min_value=MAX_CENTS // 100 + 1)).map(str),
    st.floats().map(repr),
    st.builds("{}e{}".format, st.integers(-(10**6), 10**6), st.integers(-4000, 4000)),
    junk,
)
bad_amounts = amount_text.filter(lambda a: charged_cents(a) is None)
valid_amounts = st.sampled_from(["0.01", "1", "5.00", "7.00", "10.000", "25"])
bad_ints = st.one_of(
    st.sampled_from(["", "0", "-1", "1.5", "abc", str(MAX_ID + 1), "9" * 30, "0x10", "1e3"]),
    st.integers(-(10**12), 0).map(str),
    st.integers(MAX_ID + 1, 10**20).map(str),
    junk,
).filter(lambda s: int_option(s) is None)
valid_users = st.lists(st.integers(1, MAX_ID).map(str), max_size=3)
some_users = st.lists(st.integers(1, MAX_ID).map(str), min_size=1, max_size=3)
junk_refs = st.one_of(
    junk,
    st.integers(-(10**6), 10**12).map(str),
    st.sampled_from(["", " ", "0", "-1", "1.0", "1e2", "0x1", str(MAX_ID + 1), "9" * 40]),
).filter(lambda r: terminal_ref(r) is not None)


def user_args(users: list[str]) -> list[str]:
    """Repeat --user for each id."""
    return [arg for user in users for arg in ("--user", user)]


# --- terminal-pair and terminal-add --------------------------------------------------------

control_chars = st.sampled_from([chr(c) for c in range(32)] + ["\x7f"])
bad_names = st.one_of(
    st.text(alphabet=" \t\n\r\x0b\x0c\u00a0\u2003\u3000", max_size=5),  # empty once stripped
    st.text(min_size=NAME_MAX + 1, max_size=3 * NAME_MAX).filter(
        lambda n: len(n.strip()) > NAME_MAX
    ),
    st.builds("{}a{}b{}".format, junk, control_chars, junk),
    st.sampled_from(["Ta", " Ta", "Tc ", "\tTc\n"]),  # taken in portal A
)
good_names = st.text(
    st.characters(exclude_categories=("Cc", "Cs")), min_size=1, max_size=NAME_MAX
).filter(lambda n: n.strip() and n.strip() not in ("Ta", "Tc"))
NEW_TERMINAL_WORDS = {
    "portal": ("portal",),
    "uninstalled": ("portal",),
    "name": ("name",),
    "user": ("--user",),
    "currency": ("currency",),
}


def new_terminal_args(defect: str, data: st.DataObject, member: str) -> list[str]:
    """--portal, --name, --user and --currency of pair/add, with the defect (if any) in one."""
    portal, name, currency = member, data.draw(good_names, "name"), "AUD"
    users = data.draw(valid_users, "users")
    if defect == "portal":
        portal = data.draw(junk.filter(lambda m: m not in (member, OTHER_MEMBER)), "portal")
    elif defect == "uninstalled":
        portal = GONE_MEMBER
    elif defect == "name":
        name = data.draw(bad_names, "bad name")
    elif defect == "user":
        users = [*users, data.draw(bad_ints, "bad user")]
    elif defect == "currency":
        currency = data.draw(junk.filter(lambda c: not re.fullmatch("[A-Z]{3}", c)), "currency")
    shared = ["--shared"] if data.draw(st.booleans(), "shared") else []
    return ["--portal", portal, "--name", name, *user_args(users), "--currency", currency, *shared]


PAIR_WORDS = {
    **NEW_TERMINAL_WORDS,
    "password": ("--password",),
    "username": ("username, password and pair code",),
    "pair code": ("username, password and pair code",),
}
blank = st.text(alphabet=" \t", max_size=3)
one_line = st.text(st.characters(exclude_characters="\r\n"), min_size=1, max_size=40).filter(
    lambda v: v.strip() and v != "-"
)
