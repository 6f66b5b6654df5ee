"""The custom scalars of Twisp's schema, exact: no amount ever passes through a float.

``Decimal`` travels as a string (``"9.53"``) and is parsed to ``decimal.Decimal``; a JSON
float is refused, because it may already have lost the amount. ``JSON`` literals keep their
numbers exact too: a GraphQL float literal (``1.5``) becomes ``Decimal("1.5")``, and the HTTP
layer decodes request bodies with floats as Decimal. On output, non-integer numbers inside
``JSON`` are written as decimal strings, the way the ledger stores them.

``Expression`` (one CEL expression) and ``ExpressionNestedMap`` (named CEL expressions) pass
through unchanged: the catalog compiles them, and rejects the ones that do not compile. An
``Expression`` may also be written as a number or a boolean (``default: 0``, as Twisp's
documents do): it is that literal, its digits exactly as written.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, NewType

import strawberry
from graphql import (
    BooleanValueNode,
    EnumValueNode,
    FloatValueNode,
    IntValueNode,
    ListValueNode,
    NullValueNode,
    ObjectValueNode,
    StringValueNode,
    ValueNode,
    VariableNode,
)
from strawberry.types.scalar import ScalarDefinition

__all__ = [
    "JSON",
    "SCALARS",
    "CurrencyCode",
    "EntryType",
    "Expression",
    "ExpressionNestedMap",
    "Timestamp",
    "exact_json",
    "json_output",
    "parse_decimal_input",
]

CurrencyCode = NewType("CurrencyCode", str)
EntryType = NewType("EntryType", str)
Expression = NewType("Expression", str)
ExpressionNestedMap = NewType("ExpressionNestedMap", dict[str, str])
JSON = NewType("JSON", object)
Timestamp = NewType("Timestamp", datetime)


def parse_decimal_input(value: object) -> Decimal:
    """A Decimal from a request: decimal text, an integer or an exact Decimal; never a float."""
    if isinstance(value, bool | float):
        raise ValueError(f"{value!r} is not an exact decimal: send amounts as strings")
    if isinstance(value, Decimal | int):
        number = Decimal(value)
    elif isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"{value!r} is not a decimal number") from None
    else:
        raise ValueError(f"{value!r} is not a decimal number")
    if not number.is_finite():
        raise ValueError(f"{value!r} is not a finite decimal number")
    return number


def _decimal_literal(node: ValueNode, variables: Mapping[str, Any] | None = None) -> Decimal:
    if isinstance(node, StringValueNode | IntValueNode | FloatValueNode):
        return parse_decimal_input(node.value)
    if isinstance(node, VariableNode) and variables is not None:
        return parse_decimal_input(variables.get(node.name.value))
    raise ValueError("a Decimal is written as a string, e.g. \"9.53\"")


def exact_json(node: ValueNode, variables: Mapping[str, Any] | None = None) -> object:
    """The value of a JSON literal, with every number exact (floats become Decimal)."""
    if isinstance(node, NullValueNode):
        return None
    if isinstance(node, IntValueNode):
        return int(node.value)
    if isinstance(node, FloatValueNode):
        return Decimal(node.value)
    if isinstance(node, StringValueNode | EnumValueNode):
        return node.value
    if isinstance(node, BooleanValueNode):
        return node.value
    if isinstance(node, ListValueNode):
        return [exact_json(item, variables) for item in node.values]
    if isinstance(node, ObjectValueNode):
        return {field.name.value: exact_json(field.value, variables) for field in node.fields}
    if isinstance(node, VariableNode):
        return _json_input(None if variables is None else variables.get(node.name.value))
    raise ValueError(f"unsupported JSON literal: {node.kind}")


def _json_input(value: object) -> object:
    """Check a JSON value from variables: any JSON, but no float anywhere in it."""
    if isinstance(value, float):
        raise ValueError(f"{value!r} is a float: send exact numbers as strings")
    if isinstance(value, Mapping):
        return {str(key): _json_input(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_input(item) for item in value]
    return value


def json_output(value: object) -> object:
    """A JSON value ready for the response: non-integer numbers as decimal strings."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, Mapping):
        return {str(key): json_output(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_output(item) for item in value]
    return value


def _expression_map(value: object) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise ValueError("an ExpressionNestedMap is an object of named CEL expressions")
    result: dict[str, str] = {}
    for name, expression in value.items():
        if not isinstance(expression, str):
            raise ValueError(f"vars.{name} must be one CEL expression (nested maps are not "
                             "supported)")
        result[str(name)] = expression
    return result


def _expression_map_literal(node: ValueNode,
                            variables: Mapping[str, Any] | None = None) -> dict[str, str]:
    return _expression_map(exact_json(node, variables))


def _string(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a string")
    return value


def _string_literal(node: ValueNode, variables: Mapping[str, Any] | None = None) -> str:
    if isinstance(node, StringValueNode):
        return node.value
    if isinstance(node, VariableNode) and variables is not None:
        return _string(variables.get(node.name.value))
    raise ValueError("expected a string")


def _expression(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal) and value.is_finite():
        return format(value, "f")
    if isinstance(value, str):
        return value
    raise ValueError(f"{value!r} is not an expression: a string, a number or a boolean")


def _expression_literal(node: ValueNode, variables: Mapping[str, Any] | None = None) -> str:
    if isinstance(node, StringValueNode | IntValueNode | FloatValueNode):
        return node.value
    if isinstance(node, BooleanValueNode):
        return "true" if node.value else "false"
    if isinstance(node, VariableNode) and variables is not None:
        return _expression(variables.get(node.name.value))
    raise ValueError("expected an expression: a string, a number or a boolean")


def _timestamp(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _timestamp_input(value: object) -> datetime:
    text = _string(value)
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone")
    return parsed


def _string_scalar(name: str, description: str) -> ScalarDefinition:
    definition: ScalarDefinition = strawberry.scalar(
        name=name, description=description, serialize=str, parse_value=_string,
        parse_literal=_string_literal)
    return definition


SCALARS: dict[object, ScalarDefinition] = {
    Decimal: strawberry.scalar(
        name="Decimal", description="An exact decimal number, written as a string: \"9.53\".",
        serialize=lambda value: format(value, "f"), parse_value=parse_decimal_input,
        parse_literal=_decimal_literal),
    JSON: strawberry.scalar(
        name="JSON", description="A JSON value; numbers stay exact (no floats).",
        serialize=json_output, parse_value=_json_input, parse_literal=exact_json),
    Timestamp: strawberry.scalar(
        name="Timestamp", description="An RFC 3339 UTC timestamp.",
        serialize=_timestamp, parse_value=_timestamp_input),
    ExpressionNestedMap: strawberry.scalar(
        name="ExpressionNestedMap",
        description="Named CEL expressions, evaluated in order (vars of a tran code).",
        serialize=dict, parse_value=_expression_map, parse_literal=_expression_map_literal),
    Expression: strawberry.scalar(
        name="Expression", description="One CEL expression, or a number or boolean literal.",
        serialize=str, parse_value=_expression, parse_literal=_expression_literal),
    CurrencyCode: _string_scalar("CurrencyCode", "An ISO 4217 currency code, e.g. USD."),
    EntryType: _string_scalar("EntryType", "The type of an entry, e.g. ACH_CR."),
}
