"""Reading several robot calls' documents in one batch: shared invoice list, cached stages."""

from __future__ import annotations

from typing import Any

from bizproc_app.bitrix import AccessDenied, BatchResult
from bizproc_app.payments.crm_context import CallForged, ContextRead, read_contexts


class Client:
    """Answers `batch` from a function of the commands; records them."""

    def __init__(self, answer: Any) -> None:
        self.answer = answer
        self.sent: list[Any] = []

    def batch(self, commands: dict[str, Any], *, halt: bool = False) -> BatchResult:
        self.sent.append(dict(commands))
        return self.answer(commands)


class Stages:
    """A warm stage cache: category 13 succeeds at DT31_13:P."""

    def __init__(self) -> None:
        self.stored = {"13": "DT31_13:P"}

    def known(self) -> dict[str, str]:
        return dict(self.stored)

    def remember(self, stages: dict[str, str]) -> None:
        self.stored.update(stages)


def _item(i: int) -> dict[str, Any]:
    return {"id": i, "title": f"Inv {i}", "opportunity": 12.5, "currencyId": "AUD",
            "parentId2": 7, "categoryId": 13}  # fmt: skip


def test_a_warm_cache_reads_every_invoice_with_one_list_command() -> None:
    def answer(commands: dict[str, Any]) -> BatchResult:
        return BatchResult(
            results={
                "invoices": {"items": [_item(5)]},
                "a_verify": True,
                "a_payments": [{"id": 90, "paid": "N"}],
                "b_payments": [],
            },
            errors={"b_verify": AccessDenied("ACCESS_DENIED", "", 403, "bizproc.activity.log")},
        )

    client = Client(answer)
    reads = {
        "a": ContextRead("tok-a", 7, 5, None),
        "b": ContextRead("tok-b", 7, 6, None),
        "c": ContextRead("tok-c", 7, 404, None),
    }
    out = read_contexts(client, reads, Stages())
    (sent,) = client.sent
    methods = sorted(m for m, _ in sent.values())
    assert methods.count("crm.item.list") == 1 and "crm.item.get" not in methods
    assert "crm.status.list" not in methods  # cached
    assert sent["invoices"][1]["filter"] == {"@id": [5, 6, 404]}
    a = out["a"]
    assert not isinstance(a, Exception)
    assert (str(a.amount), a.bitrix_payment_id, a.success_stage, a.paid) == (
        "12.50",
        90,
        "DT31_13:P",
        False,
    )
    assert isinstance(out["b"], CallForged)  # its token was refused
    assert isinstance(out["c"], LookupError) and "NOT_FOUND" in str(out["c"])


def test_a_cold_cache_reads_each_invoice_and_its_stages_then_remembers_them() -> None:
    def answer(commands: dict[str, Any]) -> BatchResult:
        stages = [{"STATUS_ID": "DT31_13:P", "SEMANTICS": "S"}]
        return BatchResult(results={"a_invoice": {"item": _item(5)}, "a_stages": stages})

    cache = Stages()
    cache.stored = {}
    out = read_contexts(Client(answer), {"a": ContextRead(None, 7, 5, None)}, cache)
    assert out["a"].success_stage == "DT31_13:P"
    assert cache.stored == {"13": "DT31_13:P"}
