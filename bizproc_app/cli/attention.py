"""`flask pos resolve` and `flask pos release`: settle a payment Linkly never settled.

Use them after checking the PIN pad's receipts (or the acquirer's report): the decision, who
made it and why are journaled, and the CRM, the workflow (if it still waits) and the people
concerned are told as for any outcome.
"""

from __future__ import annotations

import getpass

import click

from bizproc_app.cli.terminals import cli_errors, pos_cli
from bizproc_app.extensions import db
from bizproc_app.models import Payment, find_payment
from bizproc_app.payments import attention
from bizproc_app.payments.attention import ResolveRefused
from bizproc_app.payments.outcome_text import money
from bizproc_app.wiring.services import payments


def _who() -> str:
    return f"cli:{getpass.getuser()}"


def _payment(payment_id: str) -> Payment:
    payment = find_payment(db.session, payment_id)
    if payment is None:
        raise click.ClickException(f"no payment {payment_id!r}")
    return payment


@pos_cli.command("resolve")
@click.option("--payment", "payment_id", required=True, help="The unknown payment.")
@click.option(
    "--as", "decision", required=True, type=click.Choice(sorted(attention.DECISIONS)),
    help="What the PIN pad's receipt shows.",
)  # fmt: skip
@click.option("--reason", required=True, help="Why: the receipt or report you checked.")
def resolve(payment_id: str, decision: str, reason: str) -> None:
    """Decide an unknown payment as approved or declined; release its terminal and report it."""
    with cli_errors(ResolveRefused):
        payment = payments().resolve(
            _payment(payment_id), decision=decision, reason=reason, by=_who()
        )
    amount = money(payment.amount_cents, payment.currency)
    click.echo(f"payment {payment.id} ({amount}) recorded as {payment.state}")


@pos_cli.command("release")
@click.option("--payment", "payment_id", required=True, help="The given-up payment.")
def release(payment_id: str) -> None:
    """Free the terminal a given-up payment holds (the payment itself stays to be decided)."""
    with cli_errors(ResolveRefused):
        terminal = payments().release(_payment(payment_id), by=_who())
    click.echo(f"terminal {terminal.id} {terminal.name} released")
