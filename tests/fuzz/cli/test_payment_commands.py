"""Bad input for `flask pos pay`, `refund` and `status`: each example changes one thing from a
valid call, so the message it must print is known. The bugs this campaign found (fixed) keep a
regression test each at the end."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from bizproc_app.linkly.money import MAX_CENTS
from bizproc_app.models import MAX_ID
from tests.fuzz.cli.inputs import (
    GONE_MEMBER,
    OTHER_MEMBER,
    PAY_DEFECTS,
    bad_amounts,
    bad_ints,
    junk,
    junk_refs,
    terminal_ref,
    user_args,
    valid_amounts,
)
from tests.fuzz.cli.refusals import refused, snapshot

# The full campaign (`make fuzz`) runs thousands of cases per command: no per-test timeout.
pytestmark = pytest.mark.timeout(3600)

# --- pay -----------------------------------------------------------------------------------


@given(
    amount=bad_amounts,
    where=st.sampled_from(["id", "name", "Tc and user 5"]),
    currency=st.sampled_from([None, "AUD", "aud"]),
)
def test_pay_refuses_bad_amounts(cli, amount, where, currency) -> None:
    terminal = {"id": str(cli["ids"]["Ta"]), "name": " Ta ", "Tc and user 5": "Tc"}[where]
    args = ["pay", "--portal", cli["member"], "--terminal", terminal, "--amount", amount]
    args += user_args(["5"] if where.startswith("Tc") else [])
    args += ["--currency", currency] if currency else []
    # --no-wait: a wrongly accepted payment would otherwise wait out its deadline for a worker.
    refused(cli, [*args, "--no-wait"], ("amount",))


@given(
    defect=st.sampled_from(PAY_DEFECTS),
    data=st.data(),
)
def test_pay_refuses_wrong_portal_terminal_user_or_currency(cli, defect, data) -> None:
    ids, member = cli["ids"], cli["member"]
    portal, terminal, extra = member, str(ids["Ta"]), []
    words: tuple[str, ...] = ("terminal",)
    if defect == "portal":
        portal = data.draw(junk.filter(lambda m: m not in (member, OTHER_MEMBER)), "portal")
        words = ("portal",)
    elif defect == "uninstalled":
        portal, words = GONE_MEMBER, ("portal",)
    elif defect == "terminal":
        ref = data.draw(junk_refs, "terminal")
        assume(terminal_ref(ref) not in (ids["Ta"], ids["Tc"], "Ta", "Tc"))
        terminal = ref
    elif defect == "other-portal":
        pick = data.draw(st.sampled_from(["A's terminal from B", "B's terminal from A"]))
        portal, name = (OTHER_MEMBER, "Ta") if pick.startswith("A") else (member, "Tb")
        terminal = data.draw(st.sampled_from([str(ids[name]), name]), "terminal")
    elif defect == "removed":
        terminal = data.draw(st.sampled_from([str(ids["Gone"]), "Gone"]), "terminal")
    elif defect == "not-assigned":
        terminal = data.draw(st.sampled_from([str(ids["Tc"]), "Tc"]), "terminal")
        user = data.draw(st.integers(1, MAX_ID).filter(lambda u: u != 5), "user")
        extra = ["--user", str(user)]
    elif defect == "currency":
        currency = data.draw(junk.filter(lambda c: c and c.upper() != "AUD"), "currency")
        extra, words = ["--currency", currency], ("currency", "takes aud")
    else:
        extra, words = ["--user", data.draw(bad_ints, "user")], ("--user",)
    amount = data.draw(valid_amounts, "amount")
    args = ["pay", "--portal", portal, "--terminal", terminal, "--amount", amount, *extra]
    refused(cli, [*args, "--no-wait"], words)


@given(
    kind=st.sampled_from(["unknown", "paid", "usd", "locked", "junk"]),
    data=st.data(),
    amount=valid_amounts,  # --amount is required, even with an invoice
)
def test_pay_refuses_unknown_paid_or_taken_invoices(cli, kind, data, amount) -> None:
    invoices = cli["invoices"]
    if kind == "unknown":
        known = set(invoices.values())
        invoice = str(data.draw(st.integers(1, MAX_ID).filter(lambda i: i not in known)))
    elif kind == "junk":
        invoice = data.draw(bad_ints, "invoice")
    else:
        invoice = str(invoices[kind])
    words = {"usd": ("takes aud, not usd",), "junk": ("--invoice",)}.get(kind, ("invoice",))
    args = ["pay", "--portal", cli["member"], "--terminal", str(cli["ids"]["Ta"])]
    refused(cli, [*args, "--amount", amount, "--invoice", invoice, "--no-wait"], words)


# --- refund and status ---------------------------------------------------------------------


@given(
    amount=bad_amounts | st.integers(701, MAX_CENTS).map(lambda c: f"{c // 100}.{c % 100:02d}"),
)
def test_refund_refuses_bad_amounts(cli, amount) -> None:
    args = ["refund", "--payment", cli["p1"], "--amount", amount, "--no-wait"]
    refused(cli, args, ("amount", "at most 7.00"))  # 7.00 is left of P1's 10.00


@given(
    which=st.sampled_from(["junk", "uuid", "upper-cased", "unrefundable"]),
    data=st.data(),
    amount=st.sampled_from([None, "0.01", "1", "7.00"]),  # within what P1 or P3 has left
)
def test_refund_refuses_unknown_or_unrefundable_payments(cli, which, data, amount) -> None:
    if which == "junk":
        payment = data.draw(junk.filter(lambda p: p not in cli["payments"]), "payment")
    elif which == "uuid":
        payment = str(data.draw(st.uuids(), "payment"))
    elif which == "upper-cased":
        payment = cli["p1"].upper()
    else:
        payment = data.draw(st.sampled_from(cli["unrefundable"]), "payment")
    args = ["refund", "--payment", payment, "--no-wait"] + (["--amount", amount] if amount else [])
    refused(cli, args, ("payment", "purchase"))


@given(payment=junk | st.uuids().map(str))
def test_status_refuses_unknown_payments(cli, payment) -> None:
    assume(payment not in cli["payments"])
    refused(cli, ["status", "--payment", payment], ("no payment",))


def test_the_checks_see_a_payment_a_job_and_a_linkly_request(cli) -> None:
    """The invariants are not vacuous: valid input shows in the snapshot refusals compare."""
    before = snapshot(cli)
    runner = cli["app"].test_cli_runner()
    args = ["pos", "pay", "--portal", cli["member"], "--terminal", "Tc", "--amount", "1.00"]
    paid = runner.invoke(args=[*args, "--no-wait"])
    assert paid.exit_code == 0, paid.output
    runner.invoke(args=["pos", "terminal-test", "--terminal", str(cli["ids"]["Tb"])])
    after = snapshot(cli)
    assert after["payments"] == before["payments"] + 1 and after["journal"] > before["journal"]
    assert after["jobs"] == before["jobs"] + 1 and after["kicks"] == before["kicks"] + 1
    linkly = urlsplit(cli["app"].config["APP_CONFIG"].LINKLY_AUTH_URL).netloc
    assert [urlsplit(url).netloc for url in after["outside_requests"]] == [linkly]


# --- Known app bugs: one concrete example each ---------------------------------------------


@pytest.mark.parametrize("amount", ["1e999999", "-1e999999", "1e200000"])
@pytest.mark.parametrize("command", ["pay", "refund"])
def test_an_amount_with_a_huge_exponent_is_refused(cli, command, amount) -> None:
    if command == "pay":
        args = ["pay", "--portal", cli["member"], "--terminal", str(cli["ids"]["Ta"])]
    else:
        args = ["refund", "--payment", cli["p1"]]
    refused(cli, [*args, "--amount", amount, "--no-wait"], ("amount",))
