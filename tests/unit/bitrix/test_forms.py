"""PHP-style bracket encoding and decoding."""

from __future__ import annotations

import contextlib
import random
from decimal import Decimal
from urllib.parse import parse_qsl, unquote

import pytest

from bizproc_app.bitrix import http_build_query, parse_bracket_form


def roundtrip(params: dict) -> dict:
    """Encode, split like a server would, and decode."""
    return parse_bracket_form(parse_qsl(http_build_query(params), keep_blank_values=True))


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"filter": {"ENTITY_ID": "DEAL_STAGE"}}, "filter[ENTITY_ID]=DEAL_STAGE"),
        ({"fields": ["a", "b"]}, "fields[0]=a&fields[1]=b"),
        ({"id": 8061}, "id=8061"),
        ({"a": True, "b": False}, "a=1&b=0"),
        ({"a": None, "b": [], "c": {}, "d": ""}, "d="),
        ({"x": 1.5, "y": Decimal("10.00")}, "x=1.5&y=10.00"),
        ({"filter": {">=DATE": "2025-01-01"}}, "filter[%3E%3DDATE]=2025-01-01"),
        ({"q": "a b&c=d/é"}, "q=a%20b%26c%3Dd%2F%C3%A9"),
        ({"a": {"b": [{"c": 1}]}}, "a[b][0][c]=1"),
        ({"ID": "$result[get_deal][ID]"}, "ID=%24result%5Bget_deal%5D%5BID%5D"),
        ({}, ""),
    ],
)
def test_http_build_query(params, expected) -> None:
    assert http_build_query(params) == expected


def test_reference_survives_decoding() -> None:
    assert unquote(http_build_query({"ID": "$result[d][ID]"})) == "ID=$result[d][ID]"


@pytest.mark.parametrize("bad", [{"a[b]": 1}, {"a": {"x]": 1}}])
def test_bracket_keys_are_refused(bad) -> None:
    with pytest.raises(ValueError, match="brackets"):
        http_build_query(bad)


def test_unencodable_value() -> None:
    with pytest.raises(TypeError):
        http_build_query({"a": object()})


def test_handler_payload() -> None:
    items = [
        ("workflow_id", "664fa13bbbb410.99176768"),
        ("document_id[0]", "crm"),
        ("document_id[1]", "CCrmDocumentDeal"),
        ("document_id[2]", "DEAL_123"),
        ("properties[amount]", "333"),
        ("properties[multi][0]", "a"),
        ("properties[multi][1]", "b"),
        ("auth[domain]", "portal.bitrix24.com"),
        ("auth[member_id]", "abc"),
    ]
    assert parse_bracket_form(items) == {
        "workflow_id": "664fa13bbbb410.99176768",
        "document_id": ["crm", "CCrmDocumentDeal", "DEAL_123"],
        "properties": {"amount": "333", "multi": ["a", "b"]},
        "auth": {"domain": "portal.bitrix24.com", "member_id": "abc"},
    }


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        ([("a[]", "1"), ("a[]", "2")], {"a": ["1", "2"]}),
        ([("a[5]", "x"), ("a[]", "y")], {"a": {"5": "x", "6": "y"}}),
        ([("a[1]", "x"), ("a[0]", "y")], {"a": ["y", "x"]}),
        ([("a[0]", "x"), ("a[2]", "y")], {"a": {"0": "x", "2": "y"}}),
        ([("a[00]", "x")], {"a": {"00": "x"}}),
        ([("a[][b]", "1"), ("a[][b]", "2")], {"a": [{"b": "1"}, {"b": "2"}]}),
        ([("a", "1"), ("a", "2")], {"a": "2"}),
        ([("0", "x"), ("1", "y")], {"0": "x", "1": "y"}),
        ([("a.b c", "1")], {"a.b c": "1"}),
        ([("a[]", "")], {"a": [""]}),
        ([("a[b][c][d][e][f]", "deep")], {"a": {"b": {"c": {"d": {"e": {"f": "deep"}}}}}}),
        ([], {}),
    ],
)
def test_parse_bracket_form(items, expected) -> None:
    assert parse_bracket_form(items) == expected


@pytest.mark.parametrize(
    "items",
    [
        [("a[", "1")],
        [("[]", "1")],
        [("[a]", "1")],
        [("a]b[", "1")],
        [("a[b", "1")],
        [("a[b]c", "1")],
        [("a[b[c]]", "1")],
        [("", "1")],
        [("a[b][c][d][e][f][g]", "too deep")],
        [("a", "1"), ("a[b]", "2")],
        [("a[b]", "1"), ("a", "2")],
        [("a[b]", "1"), ("a[b][c]", "2")],
    ],
)
def test_malformed_keys_raise_value_error(items) -> None:
    with pytest.raises(ValueError):
        parse_bracket_form(items)


@pytest.mark.parametrize(
    "params",
    [
        {"filter": {"ENTITY_ID": "DEAL_STAGE", ">ID": "5"}, "select": ["ID", "TITLE"]},
        {"fields": {"TITLE": "a & b = c", "LIST": [["x", "y"], ["z"]]}},
        {"a": {"b": {"c": {"d": {"e": "deep"}}}}},
        {"unicode": "Zahlung über 100 €", "empty": ""},
    ],
)
def test_round_trip(params) -> None:
    assert roundtrip(params) == params


def test_round_trip_php_scalars() -> None:
    assert roundtrip({"a": True, "b": 2, "c": None}) == {"a": "1", "b": "2"}


def test_random_keys_raise_only_value_error() -> None:
    rng = random.Random(1234)
    for _ in range(3000):
        items = [
            ("".join(rng.choice("[]a0 ") for _ in range(rng.randint(0, 12))), "v")
            for _ in range(rng.randint(1, 4))
        ]
        with contextlib.suppress(ValueError):
            parse_bracket_form(items)
