"""Authorization of a document, as a strawberry extension.

Before the document runs (``on_execute``, after it parsed and validated), every field the
chosen operation selects is mapped to its action and resource (``resources``):

- each write is decided with its arguments as ``context.document``: one that is not allowed
  refuses the whole request with ``forbidden`` before anything is sent, so a document with
  a forbidden mutation writes nothing;
- each resource read is decided without a document: DENY refuses the request; a verdict
  that depends on the records read (assertions over ``context.document``) is left to
  ``resolve``, which decides it again for every record a field returns: a record not
  allowed is a ``forbidden`` error on its field, and is left out of a page of entries or a
  list of clients.

Fields under ``@skip``/``@include`` count as selected.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping
from inspect import isawaitable
from typing import Any

from graphql import (
    ExecutionResult as GraphQLExecutionResult,
)
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLSchema,
    InlineFragmentNode,
    SelectionSetNode,
    get_named_type,
    get_operation_ast,
)
from graphql.execution.values import get_argument_values, get_variable_values
from strawberry.extensions import SchemaExtension
from strawberry.types.base import get_object_definition
from strawberry.types.private import is_private
from strawberry.utils.str_converters import to_camel_case

from connectors.graphql_api.auth.policies import Action, Verdict, cel_value, decide
from connectors.graphql_api.auth.resources import WRITES, read_resource
from connectors.graphql_api.context import RequestContext
from connectors.graphql_api.errors import ForbiddenError
from connectors.graphql_api.objects import Connection, EntryConnection

__all__ = ["Authorize", "record_document"]

_Field = tuple[GraphQLObjectType, GraphQLField, FieldNode]


class Authorize(SchemaExtension):
    """Refuses forbidden documents before they run, and forbidden records as they are read."""

    def on_execute(self) -> Iterator[None]:
        """Decide the document's writes and reads; refuse it if one is forbidden."""
        execution = self.execution_context
        context = execution.context
        if isinstance(context, RequestContext) and context.identity is not None:
            refusal = _preflight(execution.schema._schema, execution, context)
            if refusal is not None:
                execution.result = GraphQLExecutionResult(data=None, errors=[refusal])
        yield

    def resolve(self, _next: Callable[..., Any], root: Any, info: GraphQLResolveInfo[Any],
                *args: str, **kwargs: Any) -> Any:
        """Check each record a field reads when the caller's policies depend on it."""
        context = info.context
        if not isinstance(context, RequestContext) or not context.checked_reads:
            return _next(root, info, *args, **kwargs)
        resource = read_resource(info.parent_type.name, info.field_name,
                                 get_named_type(info.return_type).name)
        if resource is None or resource not in context.checked_reads:
            return _next(root, info, *args, **kwargs)
        value = _next(root, info, *args, **kwargs)
        if isawaitable(value):
            return _checked_later(value, context, resource)
        return _checked(value, context, resource)


def _preflight(schema: GraphQLSchema, execution: Any,
               context: RequestContext) -> ForbiddenError | None:
    identity = context.identity
    assert identity is not None
    document = execution.graphql_document
    operation = get_operation_ast(document, execution.operation_name)
    root = None if operation is None else schema.get_root_type(operation.operation)
    if operation is None or root is None:
        return None  # strawberry refuses the request itself; nothing runs
    variables = get_variable_values(schema, operation.variable_definitions or [],
                                    execution.variables or {})
    if isinstance(variables, list):
        return None  # the variables do not coerce: execution reports it and runs nothing
    context.policy_context = {
        **identity.context(), "vars": cel_value(execution.variables or {}),
        "operation": {"name": execution.operation_name or "",
                      "type": operation.operation.value}}
    fragments = {d.name.value: d for d in document.definitions
                 if isinstance(d, FragmentDefinitionNode)}
    reads: set[str] = set()
    for parent, field, node in _fields(schema, root, operation.selection_set, fragments):
        write = WRITES.get((parent.name, node.name.value))
        if write is not None:
            action, resource = write
            arguments = _write_document(get_argument_values(field, node, variables))
            if decide(identity.policies, action, resource, context.policy_context,
                      arguments) is not Verdict.ALLOW:
                return ForbiddenError(action.value, resource)
            continue
        read = read_resource(parent.name, node.name.value, get_named_type(field.type).name)
        if read is not None:
            reads.add(read)
    for resource in sorted(reads):
        verdict = decide(identity.policies, Action.SELECT, resource, context.policy_context,
                         None)
        if verdict is Verdict.DENY:
            return ForbiddenError(Action.SELECT.value, resource)
        if verdict is Verdict.PENDING:
            context.checked_reads.add(resource)
    return None


def _fields(schema: GraphQLSchema, parent: GraphQLObjectType, selections: SelectionSetNode,
            fragments: Mapping[str, FragmentDefinitionNode]) -> Iterator[_Field]:
    """Every field selected under ``parent``, fragments expanded (validation has refused
    cycles and unknown names; the document limits bound the depth)."""
    for selection in selections.selections:
        if isinstance(selection, FieldNode):
            field = parent.fields.get(selection.name.value)
            if field is None:
                continue  # __typename and introspection: no ledger data
            yield parent, field, selection
            named = get_named_type(field.type)
            if selection.selection_set is not None and isinstance(named, GraphQLObjectType):
                yield from _fields(schema, named, selection.selection_set, fragments)
            continue
        if isinstance(selection, InlineFragmentNode):
            condition, inner = selection.type_condition, selection.selection_set
        elif isinstance(selection, FragmentSpreadNode):
            fragment = fragments[selection.name.value]
            condition, inner = fragment.type_condition, fragment.selection_set
        else:
            continue
        target = parent if condition is None else schema.get_type(condition.name.value)
        if isinstance(target, GraphQLObjectType):
            yield from _fields(schema, target, inner, fragments)


def _write_document(arguments: Mapping[str, Any]) -> dict[str, Any]:
    """A write's arguments, with the fields of ``input`` lifted to the top."""
    lifted = {name: value for name, value in arguments.items() if name != "input"}
    given = arguments.get("input")
    if isinstance(given, Mapping):
        lifted.update(given)
    plain: dict[str, Any] = cel_value(lifted)
    return plain


def record_document(record: object) -> dict[str, Any]:
    """A record's own values by their GraphQL names (relations and nested objects left out),
    as ``context.document`` for a read."""
    definition = get_object_definition(record)
    if definition is None:
        return {}
    values: dict[str, Any] = {}
    for field in definition.fields:
        if field.base_resolver is not None or is_private(field.type):
            continue
        value = getattr(record, field.python_name)
        if get_object_definition(value) is None and not isinstance(value, list):
            values[field.graphql_name or to_camel_case(field.python_name)] = cel_value(value)
    return values


def _allowed(record: object, context: RequestContext, resource: str) -> bool:
    identity = context.identity
    assert identity is not None
    return decide(identity.policies, Action.SELECT, resource, context.policy_context,
                  record_document(record)) is Verdict.ALLOW


def _checked(value: Any, context: RequestContext, resource: str) -> Any:
    if value is None:
        return None
    if isinstance(value, EntryConnection):
        edges = [edge for edge in value.edges if _allowed(edge.node, context, resource)]
        return EntryConnection(nodes=[edge.node for edge in edges], edges=edges,
                               page_info=value.page_info)
    if isinstance(value, Connection):
        kept = [edge for edge in value.edges if _allowed(edge.node, context, resource)]
        return Connection(nodes=[edge.node for edge in kept], edges=kept,
                          page_info=value.page_info)
    if isinstance(value, list):
        return [item for item in value if _allowed(item, context, resource)]
    if not _allowed(value, context, resource):
        raise ForbiddenError(Action.SELECT.value, resource)
    return value


async def _checked_later(value: Awaitable[Any], context: RequestContext, resource: str) -> Any:
    return _checked(await value, context, resource)
