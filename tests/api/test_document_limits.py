"""The document limits on their own (no Kafka): every document the project ships passes them
with room to spare, the estimate counts what it says it counts, and the scans that run
before any parser never recurse.

The limits through HTTP, against a running API, are in test_hostile_documents.py.
"""

import inspect
import sys
from pathlib import Path

import pytest
from graphql import DocumentNode, GraphQLSchema, get_introspection_query

import bench.api.latency
from connectors.graphql_api import document_limits as limits
from connectors.graphql_api import tutorial
from connectors.graphql_api.objects import PAGE_MAX
from connectors.graphql_api.schema import build_schema
from ledger_core.input_bounds import json_text_depth
from tests.api import chart

DOCUMENTS = Path(__file__).parent / "documents"

SHIPPED = {
    **{path.name: path.read_text() for path in sorted(DOCUMENTS.glob("*.graphql"))},
    "tutorial journal": tutorial._JOURNAL,
    "tutorial accounts": tutorial._ACCOUNTS,
    "tutorial tran codes": tutorial._TRAN_CODES,
    "tutorial posting": tutorial._POST,
    "tutorial dry run": tutorial._DRY_RUN_WITHDRAWAL,
    "tutorial velocity control": tutorial._CAP,
    "tutorial velocity": tutorial._VELOCITY,
    "tutorial withdrawal and balances": tutorial._WITHDRAWAL_AND_BALANCES,
    "bench PostDeposit": bench.api.latency.POST_DEPOSIT,
    "tests chart account": chart.CREATE_ACCOUNT,
    "tests chart tran code": chart.CREATE_TRAN_CODE,
    "tests chart post": chart.POST,
    "tests chart balance": chart.BALANCE,
}


@pytest.fixture(scope="module")
def schema() -> GraphQLSchema:
    """The API's graphql-core schema."""
    gql: GraphQLSchema = build_schema()._schema
    return gql


def checked(query: str) -> DocumentNode:
    """The parsed document, which must pass the text and field limits."""
    document = limits.checked_document(query)
    assert isinstance(document, DocumentNode), document
    return document


def refusal(query: str, schema: GraphQLSchema) -> tuple[str, int, int] | None:
    """(code, limit, measured) of the refusal DocumentLimits would raise, or None."""
    document = limits.checked_document(query)
    if not isinstance(document, DocumentNode):
        return document.code, document.limit, document.measured
    refused = limits._shape_refusal(limits.estimate(schema, document))
    return None if refused is None else (refused.code, refused.limit, refused.measured)


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_every_shipped_document_passes_with_room_to_spare(name: str,
                                                          schema: GraphQLSchema) -> None:
    """Each document of tests/api/documents, the tutorial, the benchmark and the tests' chart
    measures at most half of every limit."""
    query = SHIPPED[name]
    document = checked(query)
    shape = limits.estimate(schema, document)
    assert len(query) <= limits.QUERY_CHARS_MAX // 2
    assert limits._fields_written(document) <= limits.QUERY_FIELDS_MAX // 2
    assert shape.depth <= limits.QUERY_DEPTH_MAX // 2
    assert shape.aliases <= limits.QUERY_ALIASES_MAX // 2
    assert shape.cost <= limits.QUERY_COST_MAX // 2


def test_the_introspection_query_passes(schema: GraphQLSchema) -> None:
    """graphql-core's introspection query (what GraphQL tools send first) is served."""
    for query in (get_introspection_query(),
                  get_introspection_query(descriptions=True, specified_by_url=True,
                                          directive_is_repeatable=True,
                                          schema_description=True,
                                          input_value_deprecation=True)):
        assert refusal(query, schema) is None


def test_a_page_of_entries_with_their_fields_passes(schema: GraphQLSchema) -> None:
    """A full page (PAGE_MAX entries) with every scalar field of an entry is served."""
    page = ("query Page($id: UUID!) { account(id: $id) { entries(first: 1000) { edges { cursor "
            "node { entryId transactionId accountId journalId entryType layer units currency "
            "direction sequence description metadata effective created amount { units "
            "currency } account { name } } } pageInfo { hasNextPage endCursor } } } }")
    assert refusal(page, schema) is None


def test_a_first_argument_multiplies_its_sub_selection(schema: GraphQLSchema) -> None:
    """entries(first: n) counts its sub-selection n times: from the literal, from the
    variable, from the variable's default, or PAGE_MAX when it is not given."""
    query = "query($n: Int! = 7) { account(id: \"00000000-0000-4000-8000-000000000001\") " \
            "{ entries(first: $n) { nodes { units currency } } } }"
    document = checked(query)
    # account 1, entries 1, nodes 1, and n items of units and currency
    assert limits.estimate(schema, document).cost == 3 + 7 * 2
    assert limits.estimate(schema, document, {"n": 40}).cost == 3 + 40 * 2
    assert limits.estimate(schema, document, {"n": 10**9}).cost == 3 + PAGE_MAX * 2
    omitted = checked("{ entries(index: {name: ENTRY_ID}) { nodes { units } } }")
    assert limits.estimate(schema, omitted).cost == 2 + PAGE_MAX


def test_a_list_without_first_counts_as_the_assumed_size(schema: GraphQLSchema) -> None:
    """TranCode.params (no `first`) counts QUERY_LIST_SIZE_ASSUMED items; the lists of a
    connection (nodes, edges) are its page, counted once by the field that asked for it."""
    document = checked("{ tranCode(id: \"00000000-0000-4000-8000-000000000001\") "
                       "{ params { name type } } }")
    assert limits.estimate(schema, document).cost == 2 + limits.QUERY_LIST_SIZE_ASSUMED * 2
    page = checked("{ transaction(id: \"00000000-0000-4000-8000-000000000001\") "
                   "{ entries(first: 3) { nodes { units } edges { cursor } } } }")
    # transaction 1, entries 1, nodes 1, edges 1, and 3 items of units and of cursor
    assert limits.estimate(schema, page).cost == 4 + 3 * 2


def test_fragments_are_expanded_where_they_are_spread(schema: GraphQLSchema) -> None:
    """Depth, aliases and cost count a fragment at each spread, its own spreads included."""
    query = """
      query { account(id: "00000000-0000-4000-8000-000000000001") { ...A ...A } }
      fragment A on Account { x: name ...B }
      fragment B on Account { y: name balance { settled { crBalance { units } } } }
    """
    shape = limits.estimate(schema, checked(query))
    assert shape.depth == 5  # account balance settled crBalance units
    assert shape.aliases == 4  # x and y, twice
    assert shape.cost == 1 + 2 * (1 + (1 + 4))


def test_an_exponential_fragment_chain_is_measured_without_expanding_it(
        schema: GraphQLSchema) -> None:
    """Forty fragments each spreading the next twice expand to 2^40 fields: the estimate
    says so without walking them, and refuses the document as too costly."""
    chain = " ".join(f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(40))
    query = f"query {{ ...F0 }} {chain} fragment F40 on Query {{ __typename }}"
    assert refusal(query, schema) == (limits.QUERY_TOO_COSTLY, limits.QUERY_COST_MAX, 2**40)


def test_a_long_fragment_chain_does_not_recurse(schema: GraphQLSchema) -> None:
    """200 fragments spreading one another, measured with the interpreter's recursion limit
    barely above the current depth: the estimate walks them in order, one at a time."""
    chain = " ".join(f"fragment F{i} on Query {{ ...F{i + 1} }}" for i in range(200))
    document = checked(f"{{ ...F0 }} {chain} fragment F200 on Query {{ __typename }}")
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(len(inspect.stack()) + 50)
    try:
        shape = limits.estimate(schema, document)
    finally:
        sys.setrecursionlimit(limit)
    assert (shape.depth, shape.cost) == (1, 1)


def test_a_fragment_cycle_is_left_to_validation(schema: GraphQLSchema) -> None:
    """A cycle of fragments (which validation refuses) is measured without looping."""
    query = "{ ...A } fragment A on Query { ...B __typename } fragment B on Query { ...A }"
    assert limits.estimate(schema, checked(query)).cost >= 1


def test_the_lexer_pass_measures_tokens_and_nesting() -> None:
    """Too many tokens is query_too_large, brackets nested too deep query_too_deep, both
    with the measured value; a syntax error within the limits stays a syntax error."""
    many = "{ " + "a " * limits.QUERY_TOKENS_MAX + "}"
    refused = limits.checked_document(many)
    assert not isinstance(refused, DocumentNode)
    assert (refused.code, refused.measured) == (limits.QUERY_TOO_LARGE,
                                                limits.QUERY_TOKENS_MAX + 2)
    deep = "{ a(x: " + "[" * 100 + "]" * 100 + ") }"
    refused = limits.checked_document(deep)
    assert not isinstance(refused, DocumentNode)
    assert (refused.code, refused.measured) == (limits.QUERY_TOO_DEEP, 102)  # { ( and 100 [
    with pytest.raises(Exception, match="Syntax Error"):
        limits.checked_document("{ a(x: ")


@pytest.mark.parametrize("text, depth", [
    ("{}", 1),
    ('{"a": [[{"b": []}]]}', 5),
    ('{"a": "[[[[[[{{{{"}', 1),
    ('{"a": "\\"[[[[", "b": [1]}', 2),
    ('{"a": "\\\\", "b": [[1]]}', 3),
    ('"not an object"', 0),
    ("[" * 5000 + "]" * 5000, 5000),
    ('{"a": "' + '\\"[' * 10000, 1),  # a string never closed: to the end of the text
])
def test_json_depth_counts_brackets_outside_strings(text: str, depth: int) -> None:
    """json_text_depth ignores brackets inside strings, escaped quotes included, and scans text
    far deeper than any decoder could go."""
    assert json_text_depth(text) == depth


def test_a_mutation_may_run_a_command_timeout_longer_for_each_root_field() -> None:
    """The execution budget: QUERY_EXECUTION_S_MAX for a query; for a mutation, the command
    timeout once more for each root field, since each waits for its result in turn."""
    assert limits.execution_budget_s("{ __typename }", None, 30.0) == \
        limits.QUERY_EXECUTION_S_MAX
    assert limits.execution_budget_s(tutorial._ACCOUNTS, None, 30.0) == \
        limits.QUERY_EXECUTION_S_MAX + 4 * 30.0
    two = "mutation A { ...W } mutation B { __typename } fragment W on Mutation { x: " \
          "__typename y: __typename }"
    assert limits.execution_budget_s(two, "A", 10.0) == limits.QUERY_EXECUTION_S_MAX + 20.0
    assert limits.execution_budget_s("{ broken", None, 30.0) == limits.QUERY_EXECUTION_S_MAX
