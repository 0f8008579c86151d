"""The support CLI: pos pay, pos refund and pos status against both simulators."""

from __future__ import annotations

from tests.integration.payments.conftest import ledger


def test_pay_prints_prompts_and_result_then_refund_and_status(
    shop, pinpads, processes, served_app
) -> None:
    runner = served_app.test_cli_runner()
    paid = runner.invoke(
        args=[
            "pos",
            "pay",
            "--portal",
            shop["member_id"],
            "--terminal",
            str(shop["terminal_id"]),
            "--amount",
            "12.00",
            "--user",
            "1",
        ]
    )
    assert paid.exit_code == 0, paid.output
    lines = paid.output.strip().splitlines()
    payment_id = lines[-1]
    assert lines[0] == f"payment {payment_id} queued: 12.00 AUD"
    assert any("PRESENT CARD" in line or "SWIPE CARD" in line for line in lines)
    assert lines[-2].startswith("approved")
    charge = [e for e in ledger(pinpads) if e["amountCents"] == 1200]
    assert len(charge) == 1

    refunded = runner.invoke(args=["pos", "refund", "--payment", payment_id, "--amount", "2.00"])
    assert refunded.exit_code == 0, refunded.output
    assert refunded.output.strip().splitlines()[-2].startswith("approved")
    refunds = [e for e in ledger(pinpads) if e["txnType"] == "R"]
    assert [e["amountCents"] for e in refunds] == [200]

    too_much = runner.invoke(args=["pos", "refund", "--payment", payment_id, "--amount", "10.01"])
    assert too_much.exit_code == 1 and "At most 10.00 can still be refunded" in too_much.output

    shown = runner.invoke(args=["pos", "status", "--payment", payment_id])
    assert shown.exit_code == 0
    assert "state: approved" in shown.output and "12.00 AUD" in shown.output


def test_pay_refuses_bad_input_and_charges_nothing(shop, pinpads, served_app) -> None:
    runner = served_app.test_cli_runner()
    base = ["pos", "pay", "--portal", shop["member_id"], "--terminal", str(shop["terminal_id"])]
    cases = {
        "0.00": "at least 1 cent",
        "-5": "at least 1 cent",
        "1.234": "more than 2 decimal places",
        "10000000.00": "at most 999999999 cents",
        "abc": "must be a number",
    }
    for amount, message in cases.items():
        result = runner.invoke(args=[*base, "--amount", amount])
        assert result.exit_code != 0, (amount, result.output)
        assert message in result.output.lower(), (amount, result.output)
    wrong = runner.invoke(args=[*base, "--amount", "5", "--currency", "USD"])
    assert wrong.exit_code == 1 and "takes AUD, not USD" in wrong.output
    stranger = runner.invoke(args=[*base, "--amount", "5", "--user", "2"])
    assert stranger.exit_code == 1 and "not assigned" in stranger.output
    assert ledger(pinpads) == []
