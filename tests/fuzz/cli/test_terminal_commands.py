"""Bad input for the `flask pos terminal-*` commands: add, pair (refused before Linkly is asked),
assign, remove and test. The bugs this campaign found (fixed) keep a regression test each at
the end."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.cli.inputs import (
    NEW_TERMINAL_WORDS,
    PAIR_WORDS,
    bad_ints,
    blank,
    junk_refs,
    new_terminal_args,
    one_line,
    some_users,
    terminal_ref,
    user_args,
)
from tests.fuzz.cli.refusals import refused

# The full campaign (`make fuzz`) runs thousands of cases per command: no per-test timeout.
pytestmark = pytest.mark.timeout(3600)


@given(
    defect=st.sampled_from([*NEW_TERMINAL_WORDS, "secret"]),
    secret_via=st.sampled_from(["--secret", "stdin"]),
    data=st.data(),
)
def test_terminal_add_refuses_bad_input(cli, defect, secret_via, data) -> None:
    args = ["terminal-add", *new_terminal_args(defect, data, cli["member"])]
    secret = data.draw(blank if defect == "secret" else one_line, "secret")
    words = NEW_TERMINAL_WORDS.get(defect, ("--secret",))
    if secret_via == "stdin":
        refused(cli, [*args, "--secret", "-"], words, stdin=secret + "\n")
    else:
        refused(cli, [*args, "--secret", secret], words)


@given(
    defect=st.sampled_from([*NEW_TERMINAL_WORDS, "password", "username", "pair code"]),
    data=st.data(),
)
def test_terminal_pair_refuses_bad_input_before_asking_linkly(cli, defect, data) -> None:
    args = ["terminal-pair", *new_terminal_args(defect, data, cli["member"])]
    username = "" if defect == "username" else data.draw(one_line, "username")
    code = data.draw(blank if defect == "pair code" else st.from_regex(r"\A\d{6}\Z"), "code")
    args += ["--username", username, "--pair-code", code]
    stdin = ""
    if defect == "password":  # given empty, or as - with an empty first line on stdin
        password = data.draw(st.sampled_from(["", "-"]), "password")
        stdin = data.draw(st.sampled_from(["", "\n", "\nsecond line"]), "stdin")
    else:
        password = data.draw(one_line, "password")
    refused(cli, [*args, "--password", password], PAIR_WORDS[defect], stdin=stdin)


# --- terminal-assign, terminal-remove, terminal-test ---------------------------------------


@given(defect=st.sampled_from(["terminal", "removed", "user", "no user"]), data=st.data())
def test_terminal_assign_refuses_bad_input(cli, defect, data) -> None:
    ids = cli["ids"]
    terminal, users = str(ids["Ta"]), data.draw(some_users, "users")
    words = ("terminal",)
    if defect == "terminal":  # names need a portal here: only ids of active terminals work
        active = (ids["Ta"], ids["Tb"], ids["Tc"])
        terminal = data.draw(junk_refs.filter(lambda r: terminal_ref(r) not in active), "ref")
    elif defect == "removed":
        terminal = str(ids["Gone"])
    elif defect == "user":
        users, words = [*users, data.draw(bad_ints, "bad user")], ("--user",)
    else:
        users, words = [], ("--user",)
    refused(cli, ["terminal-assign", "--terminal", terminal, *user_args(users)], words)


@given(
    case=st.sampled_from(
        [(command, which) for command in ("remove", "test") for which in ("junk", "removed")]
        + [("remove", "busy")]  # Ta's payment is running: removal must wait
    ),
    data=st.data(),
)
def test_terminal_remove_and_test_refuse_bad_terminals(cli, case, data) -> None:
    (command, which), ids = case, cli["ids"]
    active = (ids["Ta"], ids["Tb"], ids["Tc"])
    terminal = {"removed": str(ids["Gone"]), "busy": str(ids["Ta"])}.get(which)
    if terminal is None:
        terminal = data.draw(junk_refs.filter(lambda r: terminal_ref(r) not in active), "terminal")
    refused(cli, [f"terminal-{command}", "--terminal", terminal], ("terminal",))


# --- Known app bugs: one concrete example each ---------------------------------------------


@pytest.mark.parametrize(
    ("command", "ref"),
    [
        ("pay", "\u00b2"),
        ("terminal-assign", "\u00b2"),
        ("terminal-remove", "\u00b2"),
        ("terminal-test", "\u00b2"),
        ("pay", "1" * 4301),  # int() refuses more than 4300 digits
    ],
    ids=["pay-²", "assign-²", "remove-²", "test-²", "pay-4301-digits"],
)
def test_a_terminal_ref_that_int_rejects_is_refused(cli, command, ref) -> None:
    extra = {
        "pay": ["--portal", cli["member"], "--amount", "1.00", "--no-wait"],
        "terminal-assign": ["--user", "5"],
    }
    refused(cli, [command, "--terminal", ref, *extra.get(command, [])], ("terminal",))


def test_a_terminal_name_with_a_c1_control_character_is_refused(cli) -> None:
    args = ["terminal-add", "--portal", cli["member"], "--name", "Front\x85desk", "--secret", "s"]
    refused(cli, args, ("name",))
