"""``@dryRun`` mutations on a real ledger: decided by the ledger's rules, read back inside the
document, and never written."""

import uuid
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from tests.api.chart import CREATE_ACCOUNT, Chart, open_chart, open_customer
from tests.api.conftest import LiveApi
from tests.api.test_writes import post, settled

DRY_RUN = """
mutation Simulate($deposit: UUID!, $withdrawal: UUID!, $depositCode: String!,
                  $withdrawCode: String!, $customer: UUID!, $house: UUID!) @dryRun {
  deposit: postTransaction(input: {transactionId: $deposit, tranCode: $depositCode,
                                   params: {account: $customer, amount: "5.00"}}) {
    transactionId
    entries(first: 5) { nodes { accountId units direction } }
  }
  withdrawal: postTransaction(input: {transactionId: $withdrawal, tranCode: $withdrawCode,
                                      params: {account: $customer, amount: "2.00",
                                               fee: "0.50"}}) {
    transactionId
  }
  queries {
    customer: account(id: $customer) {
      balance { settled { normalBalance { units } } }
      entries(first: 20) { nodes { transactionId units } }
    }
    house: account(id: $house) { balance { settled { normalBalance { units } } } }
    deposit: transaction(id: $deposit) { transactionId }
  }
}
"""

DRY_POST = """
mutation DryPost($id: UUID!, $code: String!, $params: JSON) @dryRun {
  postTransaction(input: {transactionId: $id, tranCode: $code, params: $params}) {
    transactionId
  }
}
"""

DRY_VOID = """
mutation DryVoid($id: UUID!, $customer: UUID!) @dryRun {
  voidTransaction(id: $id) { voidOf }
  queries {
    account(id: $customer) { balance { settled { normalBalance { units } } } }
    original: transaction(id: $id) { voidedBy }
  }
}
"""

DRY_CREATE = """
mutation DryCreate($input: AccountInput!, $id: UUID!, $code: String!, $params: JSON) @dryRun {
  postTransaction(input: {transactionId: $id, tranCode: $code, params: $params}) {
    transactionId
  }
  ...Create
}
fragment Create on Mutation { createAccount(input: $input) { accountId } }
"""

READ = """
query Read($customer: UUID!, $id: UUID!) {
  account(id: $customer) { entries(first: 20) { nodes { transactionId } } }
  transaction(id: $id) { transactionId voidedBy }
}
"""


@pytest.fixture(scope="module")
def chart(shared_api: LiveApi) -> Chart:
    """The module's chart of accounts."""
    return open_chart(shared_api)


def _funded(api: LiveApi, chart: Chart) -> tuple[UUID, UUID]:
    """A customer (on another partition than the house) holding 10.00 from one deposit,
    and that deposit's id."""
    customer = open_customer(api, chart, remote_house=True)
    deposit = uuid.uuid4()
    assert "errors" not in post(api, chart.deposit, customer, "10.00", deposit)
    return customer, deposit


def _units(node: dict[str, Any]) -> Decimal:
    return Decimal(node["balance"]["settled"]["normalBalance"]["units"])


def test_a_dry_run_reads_its_own_postings_and_writes_nothing(shared_api: LiveApi,
                                                             chart: Chart) -> None:
    """Two postings decided in order, seen by the document's reads on both partitions'
    accounts; afterwards the ledger is as it was, and a later real posting on the same
    partition (which Kafka would have ordered after them) is all it shows."""
    customer, first = _funded(shared_api, chart)
    house_before = Decimal(settled(shared_api, chart.house) or "0")
    deposit, withdrawal = uuid.uuid4(), uuid.uuid4()
    data = shared_api.data(DRY_RUN, {
        "deposit": str(deposit), "withdrawal": str(withdrawal),
        "depositCode": chart.deposit, "withdrawCode": chart.withdraw,
        "customer": str(customer), "house": str(chart.house)})
    assert data["deposit"]["transactionId"] == str(deposit)
    assert {(n["accountId"], n["direction"]) for n in data["deposit"]["entries"]["nodes"]} == {
        (str(chart.house), "DEBIT"), (str(customer), "CREDIT")}
    read = data["queries"]
    assert _units(read["customer"]) == Decimal("12.50")
    assert _units(read["house"]) == house_before + Decimal("3.00")
    assert read["deposit"] == {"transactionId": str(deposit)}
    assert [n["transactionId"] for n in read["customer"]["entries"]["nodes"]] == [
        str(first), str(deposit), str(withdrawal)]

    later = uuid.uuid4()
    assert "errors" not in post(shared_api, chart.deposit, customer, "1.00", later)
    assert settled(shared_api, customer) == "11.00"
    after = shared_api.data(READ, {"customer": str(customer), "id": str(deposit)})
    assert after["transaction"] is None
    assert [n["transactionId"] for n in after["account"]["entries"]["nodes"]] == [
        str(first), str(later)]
    assert Decimal(settled(shared_api, chart.house) or "0") == house_before + Decimal("1.00")


def test_a_dry_run_refuses_with_the_ledgers_codes(shared_api: LiveApi, chart: Chart) -> None:
    """A posted id, and an id the same document already posted, are duplicates; a tran code
    that does not exist is refused as the processor would."""
    customer, first = _funded(shared_api, chart)
    params = {"account": str(customer), "amount": "1.00"}
    error = shared_api.error(DRY_POST, {"id": str(first), "code": chart.deposit,
                                        "params": params})
    assert error["extensions"]["rule"] == "transaction_id_duplicate"
    error = shared_api.error(DRY_POST, {"id": str(uuid.uuid4()), "code": "NO_SUCH_CODE",
                                        "params": params})
    assert error["extensions"]["rule"] == "tran_code_not_found"
    twice = DRY_POST.replace("transactionId\n  }\n}", "transactionId\n  }\n"
                             "  again: postTransaction(input: {transactionId: $id, "
                             "tranCode: $code, params: $params}) { transactionId }\n}")
    body = shared_api.send(twice, {"id": str(uuid.uuid4()), "code": chart.deposit,
                                   "params": params})
    assert [e["extensions"]["rule"] for e in body["errors"]] == ["transaction_id_duplicate"]
    assert settled(shared_api, customer) == "10.00"


def test_a_dry_run_void_leaves_the_original_posted(shared_api: LiveApi, chart: Chart) -> None:
    """Inside the document the void reverses the deposit; afterwards it is still posted."""
    customer, first = _funded(shared_api, chart)
    data = shared_api.data(DRY_VOID, {"id": str(first), "customer": str(customer)})
    assert data["voidTransaction"]["voidOf"] == str(first)
    assert _units(data["queries"]["account"]) == Decimal("0.00")
    assert data["queries"]["original"]["voidedBy"] is not None
    after = shared_api.data(READ, {"customer": str(customer), "id": str(first)})
    assert after["transaction"] == {"transactionId": str(first), "voidedBy": None}
    assert settled(shared_api, customer) == "10.00"


def test_a_dry_run_with_a_catalog_write_is_refused_whole(shared_api: LiveApi,
                                                          chart: Chart) -> None:
    """The catalog is not simulated: a document with createAccount (even in a fragment) is
    refused before its posting is decided, and nothing is created."""
    customer, first = _funded(shared_api, chart)
    account = uuid.uuid4()
    body = shared_api.send(DRY_CREATE, {
        "input": {"accountId": str(account), "code": f"DRY.{account.hex[:8]}", "name": "Never"},
        "id": str(first), "code": chart.deposit,
        "params": {"account": str(customer), "amount": "1.00"}})
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"]["rule"] == "dry_run_not_supported"
    assert "createAccount" in error["message"]
    created = shared_api.data(CREATE_ACCOUNT, {"input": {
        "accountId": str(account), "code": f"DRY.{account.hex[:8]}", "name": "Now"}})
    assert created["createAccount"]["accountId"] == str(account)
