"""batch chunking and per-command errors; list_all pagination."""

from __future__ import annotations

import pytest

from bizproc_app.bitrix import AccessDenied, BadRequest, BitrixUnavailable, OperationTimeLimit
from bizproc_app.bitrix.batch import BatchResult, encode_chunks, parse_batch, prefixed
from tests.unit.bitrix.helpers import CLIENT_ENDPOINT

BATCH_URL = f"{CLIENT_ENDPOINT}batch.json"


def echo_batch(request, context):
    """Answer every command with its own encoded string; PHP's [] for empty members."""
    cmd = request.json()["cmd"]
    return {
        "result": {
            "result": {name: {"cmd": text} for name, text in cmd.items()},
            "result_error": [],
            "result_total": [],
            "result_next": [],
            "result_time": [],
        },
        "time": {},
    }


def test_120_commands_make_3_requests(client, requests_mock) -> None:
    requests_mock.post(BATCH_URL, json=echo_batch)
    commands = {f"d{i}": ("crm.deal.get", {"id": i}) for i in range(120)}
    result = client.batch(commands)
    bodies = [r.json() for r in requests_mock.request_history]
    assert [len(b["cmd"]) for b in bodies] == [50, 50, 20]
    assert all(b["halt"] == 0 and "auth" in b for b in bodies)
    assert list(result.results) == list(commands)
    assert result.results["d7"] == {"cmd": "crm.deal.get?id=7"}
    assert (result.errors, result.totals, result.nexts) == ({}, {}, {})


def test_commands_are_encoded_php_style(client, requests_mock) -> None:
    requests_mock.post(BATCH_URL, json=echo_batch)
    client.batch(
        {
            "get_deal": ("crm.deal.get", {"id": 8061}),
            "stages": ("crm.status.list", {"filter": {"ENTITY_ID": "DEAL_STAGE"}}),
            "me": ("user.current", None),
            "contact": ("crm.contact.get", {"id": "$result[get_deal][CONTACT_ID]"}),
        },
        halt=True,
    )
    body = requests_mock.request_history[0].json()
    assert body["halt"] == 1
    assert body["cmd"] == {
        "get_deal": "crm.deal.get?id=8061",
        "stages": "crm.status.list?filter[ENTITY_ID]=DEAL_STAGE",
        "me": "user.current",
        "contact": "crm.contact.get?id=%24result%5Bget_deal%5D%5BCONTACT_ID%5D",
    }


def test_per_command_errors_are_typed(client, requests_mock) -> None:
    answer = {
        "result": {
            "result": {"ok": {"ID": "1"}, "stages": [{"STATUS_ID": "NEW"}]},
            "result_error": {
                "bad": {"error": "insufficient_scope", "error_description": ""},
                "gone": {"error": 0, "error_description": "WorkflowNotFound"},
                "slow": {"error": "OPERATION_TIME_LIMIT", "error_description": "blocked"},
                "odd": "SOMETHING",
            },
            "result_total": {"stages": 8},
            "result_next": {"stages": 50},
            "result_time": {},
        }
    }
    requests_mock.post(BATCH_URL, json=answer)
    commands = {
        "ok": ("crm.deal.get", {"id": 1}),
        "stages": ("crm.status.list", {}),
        "bad": ("crm.item.get", {"id": 1}),
        "gone": ("bizproc.event.send", {"event_token": "t"}),
        "slow": ("crm.deal.list", {}),
        "odd": ("crm.deal.get", {"id": 2}),
    }
    result = client.batch(commands)
    assert result.results == {"ok": {"ID": "1"}, "stages": [{"STATUS_ID": "NEW"}]}
    assert isinstance(result.errors["bad"], AccessDenied)
    assert result.errors["bad"].method == "crm.item.get"
    assert type(result.errors["gone"]).__name__ == "WorkflowNotFound"
    assert isinstance(result.errors["slow"], OperationTimeLimit)
    assert isinstance(result.errors["odd"], BadRequest) and result.errors["odd"].code == "SOMETHING"
    assert (result.totals, result.nexts) == ({"stages": 8}, {"stages": 50})


def test_halt_stops_after_a_failing_chunk(client, requests_mock) -> None:
    failing = {"result": {"result": [], "result_error": {"c0": {"error": "ACCESS_DENIED"}}}}
    batch = requests_mock.post(BATCH_URL, json=failing)
    commands = {f"c{i}": ("crm.deal.get", {"id": i}) for i in range(60)}
    result = client.batch(commands, halt=True)
    assert batch.call_count == 1 and list(result.errors) == ["c0"]
    client.batch(commands)
    assert batch.call_count == 3  # without halt every chunk is sent


def test_numeric_command_names_answered_as_lists() -> None:
    parsed = parse_batch({"result": [{"ID": 1}, {"ID": 2}], "result_error": []}, {})
    assert parsed.results == {"0": {"ID": 1}, "1": {"ID": 2}}


def test_bad_batch_answer() -> None:
    with pytest.raises(BitrixUnavailable):
        parse_batch([], {})


def test_references_across_chunks_are_refused() -> None:
    commands = {f"c{i}": ("crm.deal.get", {"id": i}) for i in range(50)}
    commands["late"] = ("crm.contact.get", {"id": "$result[c0][CONTACT_ID]"})
    with pytest.raises(ValueError, match="same chunk"):
        encode_chunks(commands)
    with pytest.raises(ValueError, match="earlier"):
        encode_chunks({"a": ("x.y", {"id": "$result[b][ID]"}), "b": ("x.y", {})})
    encode_chunks({"b": ("x.y", {}), "a": ("x.y", {"f": ["$result[b][0][ID]"]})})


@pytest.mark.parametrize(
    "commands",
    [{"": ("crm.deal.get", {})}, {"a[1]": ("crm.deal.get", {})}, {"a": ("crm.deal.get?x=1", {})}],
)
def test_bad_commands(commands) -> None:
    with pytest.raises(ValueError):
        encode_chunks(commands)


def page(items, nxt=None, total=None):
    """Return one list page."""
    body = {"result": items, "time": {}}
    if nxt is not None:
        body["next"] = nxt
    if total is not None:
        body["total"] = total
    return {"json": body}


def test_list_all_follows_next(client, requests_mock) -> None:
    url = f"{CLIENT_ENDPOINT}crm.deal.list.json"
    pages = [
        page([{"ID": str(i)} for i in range(50)], 50, 120),
        page([{"ID": str(i)} for i in range(50, 100)], 100, 120),
        page([{"ID": str(i)} for i in range(100, 120)], None, 120),
    ]
    requests_mock.post(url, pages)
    items = list(client.list_all("crm.deal.list", {"filter": {"STAGE_ID": "NEW"}, "start": 0}))
    assert [i["ID"] for i in items] == [str(i) for i in range(120)]
    starts = [r.json()["start"] for r in requests_mock.request_history]
    assert starts == [0, 50, 100]
    assert all(r.json()["filter"] == {"STAGE_ID": "NEW"} for r in requests_mock.request_history)


def test_list_all_crm_item_list(client, requests_mock) -> None:
    url = f"{CLIENT_ENDPOINT}crm.item.list.json"
    requests_mock.post(url, [page({"items": [{"id": 1}]}, 50), page({"items": [{"id": 2}]})])
    params = {"entityTypeId": 31}
    assert list(client.list_all("crm.item.list", params, items_key="items")) == [
        {"id": 1},
        {"id": 2},
    ]
    requests_mock.post(url, [page({"items": [{"id": 1}]})])
    with pytest.raises(TypeError, match="items_key"):
        list(client.list_all("crm.item.list", params))


def test_list_all_empty_and_stuck(client, requests_mock) -> None:
    url = f"{CLIENT_ENDPOINT}user.get.json"
    requests_mock.post(url, [page([])])
    assert list(client.list_all("user.get")) == []
    requests_mock.post(url, [page([{"ID": "1"}], 0)])
    with pytest.raises(BitrixUnavailable, match="advance"):
        list(client.list_all("user.get"))


def test_prefixed_commands_keep_their_references_inside_their_own_group() -> None:
    commands = {
        "add": ("crm.item.payment.add", {"entityId": 5}),
        "pay": ("crm.item.payment.pay", {"id": "$result[add]", "other": "$result[elsewhere]"}),
        "rows": ("x.y", {"list": ["$result[add][item][id]", 3], "n": 1}),
    }
    renamed = prefixed("p7_", commands)
    assert list(renamed) == ["p7_add", "p7_pay", "p7_rows"]
    assert renamed["p7_pay"][1] == {"id": "$result[p7_add]", "other": "$result[elsewhere]"}
    assert renamed["p7_rows"][1] == {"list": ["$result[p7_add][item][id]", 3], "n": 1}
    assert commands["pay"][1]["id"] == "$result[add]"  # the original is untouched
    own = {k: v for k, v in commands.items() if k != "pay"}
    encode_chunks({**prefixed("a_", own), **prefixed("b_", own)})  # each group's references resolve


def test_a_part_of_a_shared_answer_is_one_group_under_its_own_names() -> None:
    shared = BatchResult(
        results={"a_pay": True, "b_pay": False, "ab": 1},
        errors={"b_add": BadRequest("X", "bad", None, "m")},
        totals={"a_list": 3},
    )
    a, b = shared.part("a_"), shared.part("b_")
    assert (a.results, a.errors, a.totals) == ({"pay": True}, {}, {"list": 3})
    assert b.results == {"pay": False} and list(b.errors) == ["add"]
