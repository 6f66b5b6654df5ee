"""The input bounds through the API: text no record can carry and codes that would mislead
an operator are refused with the ledger's codes, and a transaction id posts once whatever
account it is posted for, found and voided by its id alone."""

import json
import uuid
from typing import Any

import pytest

from streams.partitioning import owner_partition
from tests.api.chart import CREATE_ACCOUNT, POST, Chart, open_chart, open_customer
from tests.api.conftest import LiveApi

TRANSACTION = """
query Read($id: UUID!) {
  transaction(id: $id) {
    transactionId voidedBy
    entries(first: 5) { nodes { accountId units direction } }
  }
}
"""

VOID = "mutation Void($id: UUID!) { voidTransaction(id: $id) { transactionId voidOf } }"


@pytest.fixture(scope="module")
def chart(shared_api: LiveApi) -> Chart:
    """The module's chart of accounts."""
    return open_chart(shared_api)


def _raw_error(api: LiveApi, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    """Send the body as JSON text written here (escapes kept), and return its one error."""
    body = json.dumps({"query": query, "variables": variables})
    response = api.http.post(api.server.url, content=body,
                             headers={"content-type": "application/json"})
    assert response.status_code == 200, response.text
    errors = response.json()["errors"]
    assert len(errors) == 1, errors
    error: dict[str, Any] = errors[0]
    return error


def _account(**fields: str) -> dict[str, Any]:
    return {"input": {"accountId": str(uuid.uuid4()), "code": f"B.{uuid.uuid4().hex[:8]}",
                      "name": "Bounded", **fields}}


def test_a_lone_surrogate_in_a_name_is_refused(shared_api: LiveApi) -> None:
    """createAccount with "x\\ud800y" as its name answers text_not_valid_unicode."""
    error = _raw_error(shared_api, CREATE_ACCOUNT, _account(name="x\ud800y"))
    assert error["extensions"]["rule"] == "text_not_valid_unicode"
    assert error["extensions"]["field"] == "name"
    assert shared_api.data(CREATE_ACCOUNT, _account())["createAccount"]["code"].startswith("B.")


@pytest.mark.parametrize("field, text", [("name", "Ernie\x00"), ("name", "Ernie\x1b[2J"),
                                         ("code", "EVIL\u202egnp.EXE")])
def test_control_characters_in_codes_and_names_are_refused(shared_api: LiveApi, field: str,
                                                           text: str) -> None:
    """NUL, ESC and U+202E in a code or a name answer text_has_control_characters."""
    error = _raw_error(shared_api, CREATE_ACCOUNT, _account(**{field: text}))
    assert error["extensions"]["rule"] == "text_has_control_characters"
    assert error["extensions"]["field"] == field


def test_a_lone_surrogate_in_a_param_is_refused(shared_api: LiveApi, chart: Chart) -> None:
    """A posting whose params hold a lone surrogate is refused before it is sent."""
    customer = open_customer(shared_api, chart)
    error = _raw_error(shared_api, POST, {
        "id": str(uuid.uuid4()), "code": chart.deposit,
        "params": {"account": str(customer), "amount": "1.00", "memo": "x\ud800"}})
    assert error["extensions"]["rule"] == "text_not_valid_unicode"


def test_one_transaction_id_posts_once_and_is_found_and_voided_by_its_id(
        shared_api: LiveApi, chart: Chart) -> None:
    """Posting an id again for another customer (another owner, another partition) is a
    duplicate; transaction(id) shows the first posting and voidTransaction(id) voids it."""
    partitions = shared_api.server.topics.partitions
    first = open_customer(shared_api, chart)
    second = open_customer(shared_api, chart)
    while owner_partition(second, partitions) == owner_partition(first, partitions):
        second = open_customer(shared_api, chart)
    transaction_id = str(uuid.uuid4())
    shared_api.data(POST, {"id": transaction_id, "code": chart.deposit,
                           "params": {"account": str(first), "amount": "7.00"}})
    error = shared_api.error(POST, {"id": transaction_id, "code": chart.deposit,
                                    "params": {"account": str(second), "amount": "9.00"}})
    assert error["extensions"]["rule"] == "transaction_id_duplicate"
    found = shared_api.data(TRANSACTION, {"id": transaction_id})["transaction"]
    credited = [n for n in found["entries"]["nodes"] if n["direction"] == "CREDIT"]
    assert credited == [{"accountId": str(first), "units": "7.00", "direction": "CREDIT"}]
    voided = shared_api.data(VOID, {"id": transaction_id})["voidTransaction"]
    assert voided["voidOf"] == transaction_id
    after = shared_api.data(TRANSACTION, {"id": transaction_id})["transaction"]
    assert after["voidedBy"] == voided["transactionId"]
