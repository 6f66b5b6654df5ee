"""Hostile documents and bodies against the real API over HTTP: each is refused with a typed
error before it runs, and a heavy document within the limits never holds up the others.

The attacks these tests replay were found against the API before it had limits:

- ``transaction -> entries -> transaction -> entries ...`` 14 levels deep (764 bytes) ran for
  25 s, blocked every other request, and kept running after its client had gone;
- 5,000 aliases of one field ran for 4.5 s and blocked /health for 3.5 s;
- variables nested 5,000 levels deep answered HTTP 500.

Nothing here compares a duration with a threshold: "does not block" is shown by order (a
/health and a trivial query answer while the server itself reports the heavy document
still executing), and "cancelled" by the server's own counts on /health.
"""

import json
import socket
import time
import urllib.parse
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from connectors.graphql_api import document_limits as limits
from tests.api.chart import POST, Chart, open_chart, open_customer
from tests.api.conftest import LiveApi

# Guards against a test waiting forever on a broken server; never a measure of speed.
WAIT_S_MAX = 120.0

# The heavy document: 60 aliases of a page of an account's entries, with each entry's
# transaction and tran code, and that transaction's entries with their transactions again
# and those transactions' journals. About 22,000 fields, within QUERY_COST_MAX; some 5,400
# transaction reads of the read model, a second or more of one core.
ENTRIES = 30
ALIASES = 60
HEAVY = ("query Heavy($id: UUID!) { "
         + " ".join(f"a{i}: account(id: $id) {{ ...Page }}" for i in range(ALIASES))
         + f" }} fragment Page on Account {{ entries(first: {ENTRIES}) {{ nodes {{ units "
           "transaction { tranCode { code } entries(first: 2) { nodes { "
           "transaction { journal { name } } } } } } } }")

TRIVIAL = "{ __typename }"


@pytest.fixture(scope="module")
def customer(shared_api: LiveApi) -> str:
    """A customer with ENTRIES deposits, so that the heavy document reads full pages."""
    chart: Chart = open_chart(shared_api)
    account = open_customer(shared_api, chart)
    for _ in range(ENTRIES):
        shared_api.data(POST, {"id": str(uuid.uuid4()), "code": chart.deposit,
                               "params": {"account": str(account), "amount": "1.00"}})
    return str(account)


def health_url(api: LiveApi) -> str:
    """The health check's URL."""
    return api.server.url.replace("/graphql", "/health")


def documents(api: LiveApi) -> dict[str, int]:
    """What /health counts of the documents: executing, and cancelled either way."""
    response = api.http.get(health_url(api))
    assert response.status_code == 200, response.text
    counts: dict[str, int] = response.json()["documents"]
    return counts


def wait_until(what: str, condition: Callable[[], bool]) -> None:
    """Poll ``condition`` until it holds; fail, saying what never happened, past WAIT_S_MAX."""
    deadline = time.monotonic() + WAIT_S_MAX
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {WAIT_S_MAX:g}s")
        time.sleep(0.005)


def post_body(api: LiveApi, body: bytes) -> httpx.Response:
    """POST raw bytes as application/json."""
    return api.http.post(api.server.url, content=body,
                         headers={"content-type": "application/json"})


def refused(api: LiveApi, query: str, code: str) -> dict[str, Any]:
    """POST ``query``; it must be refused with ``code``, nothing run; the error."""
    body = api.send(query)
    assert body["data"] is None, body
    assert len(body["errors"]) == 1, body
    error: dict[str, Any] = body["errors"][0]
    extensions = error["extensions"]
    assert extensions["rule"] == code, error
    assert extensions["retriableError"] is False
    limit, measured = extensions["limit"], extensions["measured"]
    assert measured > limit
    assert f"{limit:,}" in error["message"] and f"{measured:,}" in error["message"], error
    return error


def fan_out(levels: int, first: int) -> str:
    """transaction { entries { nodes { transaction { entries ... } } } }, ``levels`` deep."""
    inner = "transactionId"
    for _ in range(levels):
        inner = f"entries(first: {first}) {{ nodes {{ transaction {{ {inner} }} }} }}"
    return f'{{ transaction(id: "{uuid.uuid4()}") {{ {inner} }} }}'


def test_the_fan_out_attack_is_refused_before_it_runs(shared_api: LiveApi) -> None:
    """The 14-level fan-out (under 1 KB) is query_too_deep; a shallow fan-out over full
    pages, within the depth, is query_too_costly."""
    attack = fan_out(14, first=2)
    assert len(attack) < 1024
    deep = refused(shared_api, attack, "query_too_deep")
    assert deep["extensions"] == {"code": "BAD_REQUEST", "rule": "query_too_deep",
                                  "retriableError": False, "limit": limits.QUERY_DEPTH_MAX,
                                  "measured": 44}
    costly = refused(shared_api, fan_out(3, first=1000), "query_too_costly")
    assert costly["extensions"]["limit"] == limits.QUERY_COST_MAX


def test_five_thousand_aliases_are_refused(shared_api: LiveApi) -> None:
    """The 5,000-alias document is query_too_large; 100 aliases in a small document are
    query_has_too_many_aliases."""
    field = 'account(id: "00000000-0000-4000-8000-000000000001") { name }'
    attack = "{ " + " ".join(f"a{i}: {field}" for i in range(5000)) + " }"
    large = refused(shared_api, attack, "query_too_large")
    assert large["extensions"]["measured"] == len(attack)
    aliases = refused(shared_api, "{ " + " ".join(f"a{i}: __typename" for i in range(100))
                      + " }", "query_has_too_many_aliases")
    assert (aliases["extensions"]["limit"], aliases["extensions"]["measured"]) == (
        limits.QUERY_ALIASES_MAX, 100)


def _fragment_chain(levels: int) -> str:
    """Selections nested ``2 * levels + 1`` deep through fragments, shallow as text."""
    chain = " ".join(f"fragment F{i} on Account {{ balance {{ account {{ ...F{i + 1} }} }} }}"
                     for i in range(levels))
    return ('{ account(id: "00000000-0000-4000-8000-000000000001") { ...F0 } } '
            f"{chain} fragment F{levels} on Account {{ name }}")


@pytest.mark.parametrize("query, code, measured", [
    ("{ __typename }" + " " * limits.QUERY_CHARS_MAX, "query_too_large",
     limits.QUERY_CHARS_MAX + 14),
    ("{ " + "__typename " * limits.QUERY_TOKENS_MAX + "}", "query_too_large",
     limits.QUERY_TOKENS_MAX + 2),
    ('{ entries(index: {name: ENTRY_ID}, where: {entryId: {eq: "x"}}, after: '
     + "[" * 100 + "]" * 100 + ") { nodes { units } } }", "query_too_deep", 102),
    (_fragment_chain(9), "query_too_deep", 2 * 9 + 2),
    ("{ " + "__typename " * (limits.QUERY_FIELDS_MAX + 1) + "}", "query_has_too_many_fields",
     limits.QUERY_FIELDS_MAX + 1),
    ("{ ...A ...A ...A } fragment A on Query { "
     + " ".join(f"a{i}: __typename" for i in range(30)) + " }",
     "query_has_too_many_aliases", 90),
], ids=["characters", "tokens", "brackets", "fragments", "fields", "aliases"])
def test_each_limit_is_refused_with_its_code_and_figures(shared_api: LiveApi, query: str,
                                                         code: str, measured: int) -> None:
    """Every limit answers its own code, with the limit and the measured value, in the
    extensions and in the message."""
    error = refused(shared_api, query, code)
    assert error["extensions"]["measured"] == measured


def test_limits_are_checked_before_validation(shared_api: LiveApi) -> None:
    """A document both too deep and invalid (unknown fields) is refused as too deep: the
    limits run first, so validation never sees it."""
    deep = "{ nope " + "{ nope " * 20 + "}" * 21
    refused(shared_api, deep, "query_too_deep")


def test_a_refused_mutation_writes_nothing(shared_api: LiveApi) -> None:
    """65 aliased createAccount are refused as a whole: none of the accounts exists after."""
    ids = [str(uuid.uuid4()) for _ in range(limits.QUERY_ALIASES_MAX + 1)]
    mutation = "mutation { " + " ".join(
        f'a{i}: createAccount(input: {{accountId: "{account}", code: "R.{account[:8]}", '
        f'name: "Refused"}}) {{ ...Id }}' for i, account in enumerate(ids)) \
        + " } fragment Id on Account { accountId }"
    refused(shared_api, mutation, "query_has_too_many_aliases")
    for account in (ids[0], ids[-1]):
        assert shared_api.data("query($id: UUID!) { account(id: $id) { name } }",
                               {"id": account}) == {"account": None}


def test_variables_nested_5000_deep_are_a_typed_400(shared_api: LiveApi) -> None:
    """The body is measured before it is decoded: 5,000 levels answer 400 json_too_deep,
    BODY_JSON_DEPTH_MAX levels are decoded, and brackets inside strings do not count."""
    attack = (b'{"query": "query($v: JSON) { __typename }", "variables": {"v": '
              + b"[" * 5000 + b"]" * 5000 + b"}}")
    response = post_body(shared_api, attack)
    assert response.status_code == 400, response.text
    error = response.json()["errors"][0]
    assert error["extensions"] == {"code": "BAD_REQUEST", "rule": "json_too_deep",
                                   "retriableError": False,
                                   "limit": limits.BODY_JSON_DEPTH_MAX, "measured": 5002}
    assert "5,002" in error["message"] and f"{limits.BODY_JSON_DEPTH_MAX}" in error["message"]

    def nested(depth: int) -> bytes:  # the body's object is the first level
        inner = depth - 1
        return (b'{"query": "{ __typename }", "extensions": ' + b"[" * inner + b"]" * inner
                + b"}")

    assert post_body(shared_api, nested(limits.BODY_JSON_DEPTH_MAX)).json() == {
        "data": {"__typename": "Query"}}
    too_deep = post_body(shared_api, nested(limits.BODY_JSON_DEPTH_MAX + 1))
    assert too_deep.status_code == 400
    assert too_deep.json()["errors"][0]["extensions"]["rule"] == "json_too_deep"
    in_a_string = json.dumps({"query": TRIVIAL, "extensions": {"x": "[{" * 5000}}).encode()
    assert post_body(shared_api, in_a_string).json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize("body", [
    b"", b"{not json", b"\xc3\x28", b"\xff\xfe{\x00", b"[]", b'"a string"',
    b'{"query": 1}', b'{"query": "   "}',
    b'{"query": "{ __typename }", "variables": []}',
    b'{"query": "{ __typename }", "operationName": 7}',
    b'{"query": "query A { __typename }", "operationName": "B"}',
    b'{"query": "{ __typename }", "operationName": ""}',
    b'{"query": "fragment F on Query { __typename }"}',
    b'{"query": "{ __typename }", "extensions": ' + b"9" * 5000 + b"}",
    b'{"query": "{ __typename }", "x": "' + b'\\"[' * 20000,
], ids=["empty", "not-json", "not-utf8", "utf16-garbage", "array", "string", "query-int",
        "query-blank", "variables-array", "operation-int", "operation-unknown",
        "operation-empty", "no-operation", "huge-integer", "unterminated-string"])
def test_a_malformed_body_is_a_typed_400(shared_api: LiveApi, body: bytes) -> None:
    """Whatever is wrong with the body, the answer is 400 with a code; never a 500."""
    response = post_body(shared_api, body)
    assert response.status_code == 400, response.text
    extensions = response.json()["errors"][0]["extensions"]
    assert extensions["rule"] in ("bad_request", "json_too_deep"), extensions
    assert extensions["retriableError"] is False


def test_health_and_a_trivial_query_answer_while_a_heavy_document_runs(
        shared_api: LiveApi, customer: str) -> None:
    """While the heavy document executes (as /health itself reports), /health and trivial
    queries answer, one after the other, and /health still reports it executing after
    them; then the heavy document completes in full."""
    with ThreadPoolExecutor(1) as pool, httpx.Client(timeout=WAIT_S_MAX) as client:
        heavy: Future[httpx.Response] = pool.submit(
            client.post, shared_api.server.url, json={"query": HEAVY,
                                                      "variables": {"id": customer}})
        wait_until("a /health answer while the heavy document executes",
                   lambda: heavy.done() or documents(shared_api)["executing"] >= 1)
        assert not heavy.done(), "the heavy document finished before /health could answer"
        for _ in range(5):
            assert shared_api.data(TRIVIAL) == {"__typename": "Query"}
        still = documents(shared_api)
        assert still["executing"] >= 1, "the trivial queries waited for the heavy document"
        assert not heavy.done()
        answer = heavy.result()
    assert answer.status_code == 200
    body = answer.json()
    assert "errors" not in body, body["errors"]
    pages = body["data"].values()
    assert len(pages) == ALIASES
    assert all(len(page["entries"]["nodes"]) == ENTRIES for page in pages)


def test_the_work_of_a_client_that_disconnects_is_cancelled(shared_api: LiveApi,
                                                            customer: str) -> None:
    """A client sends the heavy document and hangs up while it executes: the server
    cancels it (its count of documents cancelled on disconnect grows, and none is left
    executing) and answers the next request."""
    before = documents(shared_api)
    url = urllib.parse.urlsplit(shared_api.server.url)
    body = json.dumps({"query": HEAVY, "variables": {"id": customer}}).encode()
    client = socket.create_connection((url.hostname or "", url.port or 80))
    try:
        client.sendall(f"POST {url.path} HTTP/1.1\r\nHost: {url.hostname}\r\n"
                       "Content-Type: application/json\r\n"
                       f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        wait_until("the heavy document executing",
                   lambda: documents(shared_api)["executing"] >= 1)
    finally:
        client.close()
    wait_until("the end of the heavy document", lambda: documents(shared_api)["executing"] == 0)
    after = documents(shared_api)
    assert after["cancelledOnDisconnect"] == before["cancelledOnDisconnect"] + 1
    assert after["cancelledOnTimeout"] == before["cancelledOnTimeout"]
    assert shared_api.data(TRIVIAL) == {"__typename": "Query"}


def test_a_document_past_its_budget_is_cancelled_as_query_timeout(
        shared_api: LiveApi, customer: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """With an execution budget of nothing, the heavy document is cancelled and answered
    query_timeout, retriable; with the budget back, it runs."""
    before = documents(shared_api)
    monkeypatch.setattr(limits, "QUERY_EXECUTION_S_MAX", 0.0)
    error = shared_api.error(HEAVY, {"id": customer})
    assert error["extensions"] == {"code": "INTERRUPTED", "rule": "query_timeout",
                                   "retriableError": True}
    assert "budget of 0s" in error["message"]
    monkeypatch.undo()
    after = documents(shared_api)
    assert after["cancelledOnTimeout"] == before["cancelledOnTimeout"] + 1
    assert after["executing"] == 0
    data = shared_api.data(HEAVY, {"id": customer})
    assert len(data) == ALIASES
