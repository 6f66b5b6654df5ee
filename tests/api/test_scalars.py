"""Amounts and JSON values cross the API exactly: no float on the way in or out."""

from decimal import Decimal

import pytest
from graphql import parse_value

from connectors.graphql_api.scalars import exact_json, json_output, parse_decimal_input


def test_decimals_are_parsed_exactly_and_floats_refused() -> None:
    """Text, integers and Decimals are accepted; floats and non-numbers are refused."""
    assert parse_decimal_input("9.53") == Decimal("9.53")
    assert parse_decimal_input(7) == Decimal(7)
    assert parse_decimal_input(Decimal("0.10")) == Decimal("0.10")
    for bad in (0.1, True, "ten", "NaN", None):
        with pytest.raises(ValueError):
            parse_decimal_input(bad)


def test_json_literals_keep_float_literals_exact() -> None:
    """A float literal inside a JSON value becomes the Decimal of its text."""
    value = exact_json(parse_value('{amount: 0.10, count: 3, tags: ["a", null], on: true}'))
    assert value == {"amount": Decimal("0.10"), "count": 3, "tags": ["a", None], "on": True}
    assert str(value["amount"]) == "0.10"  # type: ignore[index]


def test_json_variables_inside_literals_are_substituted() -> None:
    """Variables inside a JSON literal take the request's variable values."""
    assert exact_json(parse_value("{account: $id}"), {"id": "x"}) == {"account": "x"}
    with pytest.raises(ValueError):
        exact_json(parse_value("{amount: $n}"), {"n": 0.5})


def test_json_output_writes_decimals_as_text() -> None:
    """Non-integer numbers leave as decimal strings; integers stay integers."""
    assert json_output({"a": Decimal("2.50"), "b": [1, Decimal("1E+2")]}) == {
        "a": "2.50", "b": [1, "100"]}
