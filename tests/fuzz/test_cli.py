"""Bad input for the `flask pos` CLI: no traceback, a non-zero exit naming the problem, and
nothing stored, queued or sent to Linkly.

Every case runs the real click commands through `app.test_cli_runner()`. Each example changes
one thing from a valid call, so the message it must print is known. Inputs the app accepts by
design (Python's Decimal and int grammars: "1_000", "+5", " 5 ", non-ASCII digits) are left out.
The bugs this campaign found (fixed) keep a regression test each at the end.
"""

from __future__ import annotations

import re
import traceback
import uuid
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from click.testing import Result
from hypothesis import assume, given
from hypothesis import strategies as st
from requests.adapters import HTTPAdapter
from sqlalchemy import select

from bizproc_app.extensions import db, redis_conn, secrets
from bizproc_app.linkly.money import MAX_CENTS
from bizproc_app.models import MAX_ID, Payment, Portal, Terminal, TerminalUser
from bizproc_app.payments.queues import QUEUE_NAMES, queue
from bizproc_app.terminals.management import NAME_MAX
from bizproc_app.wiring.services import bitrix_client_for
from tests.fuzz.conftest import counts

# The full campaign (`make fuzz`) runs thousands of cases per command: no per-test timeout.
pytestmark = pytest.mark.timeout(3600)

OTHER_MEMBER, GONE_MEMBER = "b" * 32, "c" * 32
INVOICE = 31
# Amounts whose exponent is beyond this hit the Decimal bugs below (overflow, slow int()).


@pytest.fixture
def cli(fuzz_app, b24, monkeypatch):
    """fuzz_app plus what refusals need, and a log of every request not meant for Bitrix24.

    Added: an uninstalled portal, terminal Tc (portal A, not shared, user 5), a removed
    terminal, approved / refunded / declined payments, and three Bitrix24 invoices: paid,
    in USD, and one that payment P1 has already paid (its invoice lock is held).
    """
    app, fuzz = fuzz_app, fuzz_app.config["FUZZ"]
    sent: list[str] = []
    bitrix_host = urlsplit(b24.urls["portal"]).netloc
    real_send = HTTPAdapter.send

    def send(self, request, *args, **kwargs):
        if urlsplit(request.url).netloc != bitrix_host:
            sent.append(request.url)  # Linkly, or anything else: a refusal must send nothing
        return real_send(self, request, *args, **kwargs)

    monkeypatch.setattr(HTTPAdapter, "send", send)
    ctl = b24.urls["control"]
    requests.post(f"{ctl}config", json={"rate_limit": False}, timeout=10).raise_for_status()

    def invoice(currency: str) -> int:
        fields = {"title": "Fuzz", "opportunity": 25, "currencyId": currency}
        made = requests.post(
            f"{ctl}invoices", json={"fields": fields, "run_robots": False}, timeout=10
        )
        return int(made.json()["id"])

    invoices = {"paid": invoice("AUD"), "usd": invoice("USD"), "locked": invoice("AUD")}
    with app.app_context():
        portals = list(db.session.scalars(select(Portal).order_by(Portal.id)))
        for portal in portals:  # thousands of invoice reads: lift the client's rate limit
            portal.rate_limit, portal.rate_burst = 10_000.0, 1_000_000
        portal_a = portals[0]
        db.session.add(Portal(member_id=GONE_MEMBER, domain="gone.example", installed=False))
        tc = Terminal(portal=portal_a, name="Tc", users=[TerminalUser(user_id=5)])
        tc.set_secret(secrets.box, "linkly-secret")
        gone = Terminal(portal=portal_a, name="Gone", active=False)
        db.session.add_all([tc, gone])
        db.session.flush()
        ta_id = db.session.scalar(select(Terminal.id).where(Terminal.name == "Ta"))
        tb_id = db.session.scalar(select(Terminal.id).where(Terminal.name == "Tb"))

        def payment(cents: int, state: str = "approved", **extra: Any) -> Payment:
            fields = {"kind": "purchase", "rfn": "RFN" + uuid.uuid4().hex[:8], **extra}
            made = Payment(
                portal_id=portal_a.id,
                terminal_id=ta_id,
                amount_cents=cents,
                currency="AUD",
                state=state,
                source="cli",
                **fields,
            )
            db.session.add(made)
            db.session.flush()
            return made

        lock = f"{portal_a.id}:invoice:{invoices['locked']}"
        p1 = payment(1000, invoice_id=invoices["locked"], invoice_lock=lock)
        payment(300, kind="refund", original_id=p1.id)  # 7.00 left to refund
        p2 = payment(500)
        refunded = payment(500, kind="refund", original_id=p2.id)
        no_rfn, declined = payment(700, rfn=None), payment(800, state="declined")
        ctx = {
            "app": app,
            "sent": sent,
            "member": fuzz["member"],
            "ids": {"Ta": ta_id, "Tb": tb_id, "Tc": tc.id, "Gone": gone.id},
            "invoices": invoices,
            "p1": p1.id,
            "unrefundable": [p2.id, no_rfn.id, declined.id, refunded.id, fuzz["payment_id"]],
            "payments": set(db.session.scalars(select(Payment.id))),
        }
        db.session.commit()
        client = bitrix_client_for(portal_a)
        paid = client.call(
            "crm.item.payment.add", {"entityTypeId": INVOICE, "entityId": invoices["paid"]}
        ).result
        client.call("crm.item.payment.pay", {"id": paid})
    return ctx


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
            "jobs": sum(queue(name, redis).count for name in QUEUE_NAMES),
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
