"""What one request may ask of the API: limits on bodies and documents, and on their execution.

A GraphQL document of a few hundred bytes can ask for an exponential amount of work
(``transaction { entries { nodes { transaction { entries ... }}}}``), and graphql-core's
parser and validation, the JSON decoder and the coercion of variables all recurse once per
nesting level. So, before any of them runs on untrusted input:

- the body's JSON nesting is measured by scanning its text
  (``ledger_core.input_bounds.json_text_depth``), never by decoding it;
- the document's size, tokens and bracket nesting are measured by one pass of the lexer,
  then the parsed document's fields, selection depth, aliases and estimated cost are
  measured by walks whose recursion the bracket nesting bounds. All of it happens in
  ``DocumentLimits.on_parse``, before validation: validation is quadratic in the fields
  that share a response name, and it is the first thing an unchecked document would cost.

Each refusal is a ``DocumentLimitError`` whose code names the rule and whose message gives the
limit and the measured value. A document within the limits runs under two more rules: its
resolvers take turns on the event loop (``connectors.graphql_api.turns``), so that no
request waits long for another's CPU work, and the HTTP layer cancels it when its client
goes away or its budget (``execution_budget_s``) runs out.

Every value below admits each document the project ships (tests/api/documents, the
tutorial, the benchmarks) with room to spare; ``tests/api/test_document_limits.py`` checks
that, and ``docs/api.md`` (Limits on documents) says why each value is what it is.
"""

from __future__ import annotations

import functools
from collections.abc import (
    Callable,
    Iterator,
    Mapping,
)
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    Source,
    VariableNode,
    get_named_type,
    parse,
)
from graphql.error import GraphQLSyntaxError
from graphql.language.lexer import Lexer
from graphql.language.token_kind import TokenKind
from graphql.type.introspection import (
    SchemaMetaFieldDef,
    TypeMetaFieldDef,
    TypeNameMetaFieldDef,
)
from strawberry.extensions import SchemaExtension

from connectors.graphql_api.errors import (
    QUERY_HAS_TOO_MANY_ALIASES,
    QUERY_HAS_TOO_MANY_FIELDS,
    QUERY_TOO_COSTLY,
    QUERY_TOO_DEEP,
    QUERY_TOO_LARGE,
    DocumentLimitError,
)
from connectors.graphql_api.objects import PAGE_MAX

__all__ = [
    "BODY_JSON_DEPTH_MAX",
    "DOCUMENTS_CACHED_MAX",
    "QUERY_ALIASES_MAX",
    "QUERY_CHARS_MAX",
    "QUERY_COST_MAX",
    "QUERY_DEPTH_MAX",
    "QUERY_EXECUTION_S_MAX",
    "QUERY_FIELDS_MAX",
    "QUERY_LIST_SIZE_ASSUMED",
    "QUERY_NESTING_MAX",
    "QUERY_TOKENS_MAX",
    "DocumentLimits",
    "Shape",
    "checked_document",
    "estimate",
    "execution_budget_s",
]

# The body: objects and arrays nest at most this deep in the request's JSON. The ledger's own
# bound on metadata and params (32 levels) fits inside it with the request's envelope.
BODY_JSON_DEPTH_MAX = 64

# The document's text: its length in characters, and its lexical tokens (comments aside).
# The largest document the project ships has 242 tokens in 2.4 KB.
QUERY_CHARS_MAX = 32 * 1024
QUERY_TOKENS_MAX = 2_000
# How deeply brackets ({ ( [) nest in the text: the parser recurses once per level.
QUERY_NESTING_MAX = 64
# Field selections written in the document. Validation compares every pair of fields that
# share a response name, so its work grows with the square of this: 128 repeats of one
# field take it about 20 ms. The project's largest document writes 36, graphql-core's
# introspection query 67.
QUERY_FIELDS_MAX = 128
# Fields nested in fields, fragments expanded. The deepest path through the schema that
# visits no type twice is 10 fields long (Mutation.queries ... TranCode.params.name), the
# introspection query 15; each level more can multiply the work.
QUERY_DEPTH_MAX = 16
# Aliased fields, fragments expanded: each one asks for its field again.
QUERY_ALIASES_MAX = 64
# The estimated number of fields a document resolves (``estimate``): a full page of 1,000
# entries with two dozen fields each. The project's costliest document is estimated at 91,
# graphql-core's introspection query at about 8,300 (it resolves 3,400 here).
QUERY_COST_MAX = 25_000
# The size assumed of a list whose field takes no ``first``: a tran code's params or entries,
# the lists of introspection.
QUERY_LIST_SIZE_ASSUMED = 5
# The arguments that bound a list's length; without one given, a page is PAGE_MAX long.
SIZE_ARGUMENTS = ("first", "limit")

# The wall-clock time a document may run, longer than a read's wait for the read model
# (10 s); a mutation gets the command timeout on top for each of its root fields, since each
# waits for its result in turn.
QUERY_EXECUTION_S_MAX = 15.0

# Documents parsed, checked and validated, cached by their text: clients send the same few
# documents over and over.
DOCUMENTS_CACHED_MAX = 512

# Counts beyond this are not counted further, so that an exponential document costs no more
# to measure than any other (and its measure stays a JSON-safe integer).
_SATURATED = 2**53


@dataclass(frozen=True)
class Shape:
    """What a document asks for once its fragments are expanded."""

    depth: int
    aliases: int
    cost: int


@dataclass(frozen=True)
class _Part:
    """A selection set's measure: its list fields without a size of their own count their
    items as the field above them says (``per_item`` for each), the rest is ``fixed``."""

    depth: int
    aliases: int
    fixed: int
    per_item: int

    def cost(self, items: int) -> int:
        """The cost once the field above says how many items its lists have."""
        return min(self.fixed + items * self.per_item, _SATURATED)


_NO_PART = _Part(0, 0, 0, 0)


def _is_list(field: GraphQLField) -> bool:
    field_type = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
    return isinstance(field_type, GraphQLList)


@dataclass(frozen=True)
class _Refusal:
    """A refusal, cached as data: each request gets an error of its own."""

    code: str
    message: str
    limit: int
    measured: int

    def error(self) -> DocumentLimitError:
        return DocumentLimitError(self.code, self.message, limit=self.limit,
                                  measured=self.measured)


def _over(code: str, what: str, measured: int, limit: int) -> _Refusal:
    shown = f"more than {_SATURATED:,}" if measured >= _SATURATED else f"{measured:,}"
    return _Refusal(code, f"{what} {shown}; the API serves documents of at most {limit:,}",
                    limit, min(measured, _SATURATED))


# --- the body ----------------------------------------------------------------------------

# --- the document's text -----------------------------------------------------------------

_OPENING = frozenset({TokenKind.BRACE_L, TokenKind.PAREN_L, TokenKind.BRACKET_L})
_CLOSING = frozenset({TokenKind.BRACE_R, TokenKind.PAREN_R, TokenKind.BRACKET_R})


def _text_refusal(query: str) -> _Refusal | None:
    if len(query) > QUERY_CHARS_MAX:
        return _over(QUERY_TOO_LARGE, "the document's length in characters is", len(query),
                     QUERY_CHARS_MAX)
    lexer = Lexer(Source(query))
    tokens = nesting = deepest = 0
    try:
        while (kind := lexer.advance().kind) is not TokenKind.EOF:
            tokens += 1
            if kind in _OPENING:
                nesting += 1
                deepest = max(deepest, nesting)
            elif kind in _CLOSING:
                nesting -= 1
    except GraphQLSyntaxError:
        # A syntax error the parser will report, unless the document is over a limit first.
        if tokens <= QUERY_TOKENS_MAX and deepest <= QUERY_NESTING_MAX:
            raise
    if tokens > QUERY_TOKENS_MAX:
        return _over(QUERY_TOO_LARGE, "the document's count of tokens is", tokens,
                     QUERY_TOKENS_MAX)
    if deepest > QUERY_NESTING_MAX:
        return _over(QUERY_TOO_DEEP, "brackets ({, ( and [) nest in the document to a depth "
                     "of", deepest, QUERY_NESTING_MAX)
    return None


def _fields_written(document: DocumentNode) -> int:
    count = 0
    pending = [selection_set for definition in document.definitions
               if (selection_set := getattr(definition, "selection_set", None)) is not None]
    while pending:
        for selection in pending.pop().selections:
            if isinstance(selection, FieldNode):
                count += 1
            if isinstance(selection, FieldNode | InlineFragmentNode) \
                    and selection.selection_set is not None:
                pending.append(selection.selection_set)
    return count


def _checked(query: str) -> DocumentNode | _Refusal:
    refusal = _text_refusal(query)
    if refusal is not None:
        return refusal
    document = parse(query, max_lexical_tokens=QUERY_TOKENS_MAX,
                     max_source_length=QUERY_CHARS_MAX)
    fields = _fields_written(document)
    if fields > QUERY_FIELDS_MAX:
        return _over(QUERY_HAS_TOO_MANY_FIELDS, "the document's count of field selections is",
                     fields, QUERY_FIELDS_MAX)
    return document


checked_document: Callable[[str], DocumentNode | _Refusal] = functools.lru_cache(
    maxsize=DOCUMENTS_CACHED_MAX)(_checked)
"""The parsed document, or why it is refused: its text, tokens, nesting or fields.

Cached by the text; syntax errors raise ``GraphQLSyntaxError`` (and are not cached).
"""


# --- the document's shape ----------------------------------------------------------------

def estimate(schema: GraphQLSchema, document: DocumentNode,
             variables: Mapping[str, Any] | None = None) -> Shape:
    """The depth, aliases and cost of every operation of ``document``, fragments expanded.

    The cost is the number of fields the document would resolve: each field counts 1, and
    the sub-selection of a list counts once per item. A list has the items its field's
    ``first`` (or ``limit``) argument asks for, or, directly under a field with one (the
    ``nodes`` and ``edges`` of ``entries(first: 10)``), the items that field asks for: the
    argument's value, the variable's value or default, else ``PAGE_MAX``, capped at
    ``PAGE_MAX``. Any other list counts ``QUERY_LIST_SIZE_ASSUMED`` items. Repeated
    selections count each time they are written. The operations of the document add up
    (depth: the deepest).
    """
    return _Estimate(schema, document, variables or {}).document()


class _Estimate:
    """One walk of a document. Fragments are measured once each, the ones they spread first,
    so the walk recurses only as deep as selections nest in the text (QUERY_NESTING_MAX)."""

    def __init__(self, schema: GraphQLSchema, document: DocumentNode,
                 variables: Mapping[str, Any]) -> None:
        self.schema = schema
        self.operations = [d for d in document.definitions
                           if isinstance(d, OperationDefinitionNode)]
        self.fragments = {d.name.value: d for d in document.definitions
                          if isinstance(d, FragmentDefinitionNode)}
        self.sizes: dict[str, int] = {}
        for operation in self.operations:
            for definition in operation.variable_definitions or ():
                if isinstance(definition.default_value, IntValueNode):
                    self.sizes[definition.variable.name.value] = int(
                        definition.default_value.value)
        self.sizes.update({name: value for name, value in variables.items()
                           if isinstance(value, int) and not isinstance(value, bool)})
        self.shapes: dict[str, _Part] = {}

    def document(self) -> Shape:
        for name in self._fragments_in_order():
            fragment = self.fragments[name]
            self.shapes[name] = self._selections(
                fragment.selection_set, self.schema.get_type(fragment.type_condition.name.value))
        depth = aliases = cost = 0
        for operation in self.operations:
            part = self._selections(operation.selection_set,
                                    self.schema.get_root_type(operation.operation))
            depth = max(depth, part.depth)
            aliases = min(aliases + part.aliases, _SATURATED)
            cost = min(cost + part.cost(QUERY_LIST_SIZE_ASSUMED), _SATURATED)
        return Shape(depth, aliases, cost)

    def _fragments_in_order(self) -> list[str]:
        """Every fragment after the fragments it spreads (a cycle is broken anywhere:
        validation refuses cycles)."""
        spreads = {name: _spreads(fragment.selection_set)
                   for name, fragment in self.fragments.items()}
        ordered: list[str] = []
        seen: set[str] = set()
        for start, names in spreads.items():
            if start in seen:
                continue
            seen.add(start)
            stack = [(start, iter(names))]
            while stack:
                name, children = stack[-1]
                child = next(children, None)
                if child is None:
                    stack.pop()
                    ordered.append(name)
                elif child in spreads and child not in seen:
                    seen.add(child)
                    stack.append((child, iter(spreads[child])))
        return ordered

    def _selections(self, selection_set: SelectionSetNode,
                    parent: GraphQLNamedType | None) -> _Part:
        depth = aliases = fixed = per_item = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                field = _field(self.schema, parent, selection.name.value)
                inner = _NO_PART
                if selection.selection_set is not None:
                    inner = self._selections(selection.selection_set,
                                             None if field is None else get_named_type(field.type))
                depth = max(depth, 1 + inner.depth)
                aliases += inner.aliases + (selection.alias is not None)
                size = None if field is None else self._size_asked(selection, field)
                if field is not None and _is_list(field):
                    items = inner.cost(QUERY_LIST_SIZE_ASSUMED)
                    if size is None:  # as many items as the field above asks for
                        fixed, per_item = fixed + 1, per_item + items
                    else:
                        fixed += 1 + size * items
                else:
                    fixed += 1 + inner.cost(QUERY_LIST_SIZE_ASSUMED if size is None else size)
            else:
                if isinstance(selection, InlineFragmentNode):
                    condition = selection.type_condition
                    inner = self._selections(selection.selection_set, parent if condition is None
                                             else self.schema.get_type(condition.name.value))
                else:
                    assert isinstance(selection, FragmentSpreadNode)
                    inner = self.shapes.get(selection.name.value, _NO_PART)
                depth = max(depth, inner.depth)
                aliases += inner.aliases
                fixed, per_item = fixed + inner.fixed, per_item + inner.per_item
            aliases, fixed = min(aliases, _SATURATED), min(fixed, _SATURATED)
            per_item = min(per_item, _SATURATED)
        return _Part(depth, aliases, fixed, per_item)

    def _size_asked(self, node: FieldNode, field: GraphQLField) -> int | None:
        """The items the field's ``first`` (or ``limit``) asks for; None without one."""
        for name in SIZE_ARGUMENTS:
            if name in field.args:
                return max(0, min(self._size(node, name, field.args[name].default_value),
                                  PAGE_MAX))
        return None

    def _size(self, node: FieldNode, name: str, default: object) -> int:
        for argument in node.arguments or ():
            if argument.name.value != name:
                continue
            if isinstance(argument.value, IntValueNode):
                return int(argument.value.value)
            if isinstance(argument.value, VariableNode):
                return self.sizes.get(argument.value.name.value, PAGE_MAX)
        return default if isinstance(default, int) and not isinstance(default, bool) \
            else PAGE_MAX


def _spreads(selection_set: SelectionSetNode) -> list[str]:
    names: list[str] = []
    pending = [selection_set]
    while pending:
        for selection in pending.pop().selections:
            if isinstance(selection, FragmentSpreadNode):
                names.append(selection.name.value)
            elif isinstance(selection, FieldNode | InlineFragmentNode) \
                    and selection.selection_set is not None:
                pending.append(selection.selection_set)
    return names


def _field(schema: GraphQLSchema, parent: GraphQLNamedType | None,
           name: str) -> GraphQLField | None:
    if name == "__typename":
        return TypeNameMetaFieldDef
    if parent is not None and parent is schema.query_type:
        if name == "__schema":
            return SchemaMetaFieldDef
        if name == "__type":
            return TypeMetaFieldDef
    if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
        found: GraphQLField | None = parent.fields.get(name)
        return found
    return None


def _shape_refusal(shape: Shape) -> _Refusal | None:
    if shape.depth > QUERY_DEPTH_MAX:
        return _over(QUERY_TOO_DEEP, "selections nest in the document (fragments expanded) "
                     "to a depth of", shape.depth, QUERY_DEPTH_MAX)
    if shape.aliases > QUERY_ALIASES_MAX:
        return _over(QUERY_HAS_TOO_MANY_ALIASES, "the document's count of aliases (fragments "
                     "expanded) is", shape.aliases, QUERY_ALIASES_MAX)
    if shape.cost > QUERY_COST_MAX:
        return _over(QUERY_TOO_COSTLY, "the document's estimated cost (the fields it "
                     f"resolves, a list without `first` counted as {QUERY_LIST_SIZE_ASSUMED} "
                     "items) is", shape.cost, QUERY_COST_MAX)
    return None


def execution_budget_s(query: str, operation_name: str | None, command_timeout_s: float) -> float:
    """How long the document may run: QUERY_EXECUTION_S_MAX, and for a mutation the command
    timeout once more for each of its root fields (each waits for its result in turn)."""
    try:
        document = checked_document(query)
    except GraphQLSyntaxError:
        return QUERY_EXECUTION_S_MAX
    if isinstance(document, _Refusal):
        return QUERY_EXECUTION_S_MAX
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)
                  and (operation_name is None or (d.name and d.name.value) == operation_name)]
    if len(operations) != 1 or operations[0].operation is not OperationType.MUTATION:
        return QUERY_EXECUTION_S_MAX
    fragments = {d.name.value: d for d in document.definitions
                 if isinstance(d, FragmentDefinitionNode)}
    roots, pending, spread = 0, [operations[0].selection_set], set()
    while pending:
        for selection in pending.pop().selections:
            if isinstance(selection, FieldNode):
                roots += 1
            elif isinstance(selection, InlineFragmentNode):
                pending.append(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name in fragments and name not in spread:
                    spread.add(name)
                    pending.append(fragments[name].selection_set)
    return QUERY_EXECUTION_S_MAX + roots * command_timeout_s


# --- the extensions ----------------------------------------------------------------------

class DocumentLimits(SchemaExtension):
    """Parses the document (cached by its text, in place of strawberry's ParserCache) and
    refuses it, before validation, when it is over a limit."""

    def on_parse(self) -> Iterator[None]:
        """Set the checked document, or raise the DocumentLimitError it deserves."""
        context = self.execution_context
        checked = checked_document(context.query or "")
        if isinstance(checked, _Refusal):
            raise checked.error()
        refusal = _shape_refusal(estimate(context.schema._schema, checked, context.variables))
        if refusal is not None:
            raise refusal.error()
        context.graphql_document = checked
        yield
