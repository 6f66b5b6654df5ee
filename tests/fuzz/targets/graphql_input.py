"""Target ``graphql_input``: the body of ``POST /graphql``, up to the point execution starts.

What ``connectors.graphql_api.http_app.GraphQLApp`` and strawberry do with a request body
before any resolver runs (execution needs Kafka, so it stops there):

1. ``connectors.graphql_api.http_app._request(body)``; a ``BadRequestError`` is expected (the
   API answers 400 ``bad_request``);
2. graphql-core ``parse(query)`` with strawberry's parse options; a ``GraphQLError`` (a syntax
   error) is expected (``graphql_parse_failed``);
3. the operation strawberry picks (``strawberry.utils.operation.get_operation_type`` with the
   request's ``operationName``): there must be one, because strawberry raises
   ``CannotGetOperationTypeError`` out of ``schema.execute`` otherwise, and the app does not
   catch it (the request fails with a 500 and no GraphQL answer);
4. ``validate`` against the API schema (``build_schema()._schema``) with strawberry's rules;
   GraphQL errors are expected (``graphql_validation_failed``);
5. for a valid document, the coercion of the request's ``variables``
   (``graphql.execution.values.get_variable_values``, which runs the API's scalars on them);
   GraphQL errors are expected. A coercion error caused by anything but a ``ValueError``,
   ``TypeError`` or ``GraphQLError`` in a scalar is a finding: a scalar crashed.

Any other exception (``RecursionError`` included), or a hang past libFuzzer's ``-timeout``,
is a finding. Inputs starting with ``{`` are the HTTP body itself; any other input is the
query text (UTF-8, lone surrogates allowed), sent as ``{"query": text}``.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from graphql import GraphQLError, GraphQLSchema, OperationDefinitionNode, parse, specified_rules
from graphql.execution.values import get_variable_values
from strawberry.schema.schema import validate_document
from strawberry.types.execution import ParseOptions
from strawberry.utils.operation import get_operation_type

from connectors.graphql_api.http_app import BadRequestError, _request
from connectors.graphql_api.schema import build_schema
from tests.fuzz.targets import FindingError

__all__ = ["schema", "test_one_input"]

EXPECTED_SCALAR_ERRORS = (ValueError, TypeError, GraphQLError)


@cache
def schema() -> GraphQLSchema:
    """The graphql-core schema under the API's strawberry schema."""
    gql: GraphQLSchema = build_schema()._schema
    return gql


def handle(body: bytes) -> None:
    """Decode, parse, pick the operation, validate and coerce variables; raise on a finding."""
    try:
        query, variables, operation_name = _request(body)
    except BadRequestError:
        return  # 400 bad_request
    try:
        document = parse(query, **ParseOptions())
    except GraphQLError:
        return  # graphql_parse_failed
    try:
        get_operation_type(document, operation_name)
    except RuntimeError as exc:
        raise FindingError(f"strawberry finds no operation to run (operationName "
                      f"{operation_name!r}): schema.execute raises "
                      "CannotGetOperationTypeError, which the app does not catch") from exc
    errors = validate_document(schema(), document, tuple(specified_rules))
    if errors:
        return  # graphql_validation_failed
    operation = _operation(document.definitions, operation_name)
    if operation is None:
        return
    coerced = get_variable_values(schema(), operation.variable_definitions or (),
                                  variables or {})
    if isinstance(coerced, list):
        for error in coerced:
            original = error.original_error
            if original is not None and not isinstance(original, EXPECTED_SCALAR_ERRORS):
                raise FindingError(f"a scalar failed with {type(original).__name__}: "
                              f"{error.message}") from original


def _operation(definitions: Any, name: str | None) -> OperationDefinitionNode | None:
    for definition in definitions:
        if isinstance(definition, OperationDefinitionNode) and (
                name is None or (definition.name is not None and definition.name.value == name)):
            return definition
    return None


def test_one_input(data: bytes) -> None:
    """The fuzz target."""
    if data[:1] == b"{":
        handle(data)
        return
    try:
        query = data.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:
        return
    handle(json.dumps({"query": query}).encode())
