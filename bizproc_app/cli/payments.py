"""Support commands in the `flask pos` group: pay, refund and status.

`pos pay` and `pos refund` print the payment id first, then (unless --no-wait) the PIN pad's
prompts as they change and the final status. Exit codes: 0 approved (or queued with --no-wait),
1 refused, 3 declined / cancelled / failed, 4 unknown after the deadline.
"""

from __future__ import annotations

import time
from decimal import Decimal, InvalidOperation

import click

from bizproc_app.cli.terminals import cli_errors, portal_option, pos_cli
from bizproc_app.extensions import app_config, db
from bizproc_app.models import MAX_ID, Payment, PaymentState, Portal, Terminal, find_payment
from bizproc_app.payments.crm_context import read_context
from bizproc_app.payments.outcome_text import money
from bizproc_app.payments.starting import CrmContext, PaymentRefused, PaymentRequest
from bizproc_app.terminals.management import require_portal
from bizproc_app.wiring.services import bitrix_client_for, payments

EXIT = {"approved": 0, "declined": 3, "cancelled": 3, "failed": 3, "unknown": 4}


def _amount(value: str | None) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(value)
    except InvalidOperation:
        raise click.BadParameter("must be a number like 10.00", param_hint="--amount") from None


@pos_cli.command("pay")
@portal_option
@click.option(
    "--terminal", "terminal_ref", required=True, metavar="ID", help="Terminal id or name."
)
@click.option("--amount", required=True, help="Amount, e.g. 10.00.")
@click.option("--currency", default=None, help="Default: the terminal's (or invoice's) currency.")
@click.option(
    "--invoice",
    "invoice_id",
    type=click.IntRange(1, MAX_ID),
    default=None,
    help="Smart invoice being paid.",
)
@click.option(
    "--user",
    "user_id",
    type=click.IntRange(1, MAX_ID),
    default=None,
    help="Bitrix24 user asking for it.",
)
@click.option("--no-wait", is_flag=True, help="Print the payment id and return at once.")
def pay(
    member_id: str,
    terminal_ref: str,
    amount: str,
    currency: str | None,
    invoice_id: int | None,
    user_id: int | None,
    no_wait: bool,
) -> None:
    """Charge an amount on a terminal (support staff)."""
    with cli_errors(PaymentRefused, LookupError):
        portal = require_portal(db.session, member_id)
        crm = CrmContext()
        if invoice_id:
            crm = read_context(
                bitrix_client_for(portal),
                event_token=None,
                deal_id=None,
                invoice_id=invoice_id,
                order_payment_id=None,
            )
        payment = payments().start(
            PaymentRequest(
                portal=portal,
                kind="purchase",
                source="cli",
                user_id=user_id,
                terminal_ref=terminal_ref,
                amount=_amount(amount),
                currency=currency,
                invoice_id=invoice_id,
                crm=crm,
            ),
        )
    _follow(payment, no_wait)


@pos_cli.command("refund")
@click.option("--payment", "payment_id", required=True, help="The approved payment to refund.")
@click.option("--amount", default=None, help="Default: what is left to refund.")
@click.option("--no-wait", is_flag=True, help="Print the refund's id and return at once.")
def refund(payment_id: str, amount: str | None, no_wait: bool) -> None:
    """Refund an approved payment, fully or in part, on its terminal (support staff)."""
    with cli_errors(PaymentRefused):
        original = find_payment(db.session, payment_id)
        if original is None:
            raise PaymentRefused("payment", f"no payment {payment_id}")
        portal = db.session.get_one(Portal, original.portal_id)
        made = payments().start(
            PaymentRequest(
                portal=portal,
                kind="refund",
                source="cli",
                user_is_admin=True,
                original_payment_id=original.id,
                amount=_amount(amount),
            ),
        )
    _follow(made, no_wait)


@pos_cli.command("status")
@click.option("--payment", "payment_id", required=True, help="Payment id.")
def status(payment_id: str) -> None:
    """Show a payment: state, amount, terminal, Linkly references, result and report."""
    payment = find_payment(db.session, payment_id)
    if payment is None:
        raise click.ClickException(f"no payment {payment_id!r}")
    terminal = db.session.get(Terminal, payment.terminal_id)
    result = payment.result or {}
    click.echo(
        f"payment {payment.id}: {payment.kind} {money(payment.amount_cents, payment.currency)}"
    )
    click.echo(f"state: {payment.state}{' (' + payment.error + ')' if payment.error else ''}")
    click.echo(f"terminal: {terminal.id if terminal else '?'} {terminal.name if terminal else ''}")
    click.echo(f"session: {payment.session_id or '-'}  txn_ref: {payment.txn_ref or '-'}")
    if result:
        click.echo(
            f"result: {result.get('response_code')} {result.get('response_text')}, "
            f"card {result.get('card_type') or '-'} {result.get('pan') or ''} "
            f"{result.get('account') or ''}, auth {result.get('auth_code') or '-'}"
        )
    click.echo(f"report to Bitrix24: {payment.report_state}")
    for line in (payment.display or {}).get("lines", []):
        click.echo(f"  | {line}")


def _follow(payment: Payment, no_wait: bool) -> None:
    """Print the queued payment, then its prompts and final status until it ends."""
    click.echo(f"payment {payment.id} queued: {money(payment.amount_cents, payment.currency)}")
    if no_wait:
        click.echo(payment.id)
        return
    cfg = app_config()
    give_up = time.monotonic() + cfg.PAYMENT_DEADLINE_SECONDS + 30
    shown = 0
    while time.monotonic() < give_up:
        db.session.expire_all()
        current = db.session.get_one(Payment, payment.id)
        history = (current.display or {}).get("history", [])
        for lines in history[shown:]:
            click.echo("  | " + " / ".join(lines))
        shown = max(shown, len(history))
        if current.is_final or (current.state == PaymentState.UNKNOWN and current.reported_status):
            break
        time.sleep(0.5)
    final = current.state if current.is_final else "unknown"
    detail = current.error or (current.result or {}).get("response_text") or ""
    click.echo(f"{final}{': ' + detail if detail else ''}")
    click.echo(payment.id)
    raise SystemExit(EXIT[final])
