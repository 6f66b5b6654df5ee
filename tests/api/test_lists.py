"""List queries through the API on a real ledger: accounts, journals, tran codes and
transactions by index, with Twisp's filters and cursor pagination."""

import uuid
from typing import Any

from ledger_core import DEFAULT_JOURNAL_ID
from tests.api.chart import CREATE_ACCOUNT, open_books, open_chart, open_customer
from tests.api.conftest import LiveApi
from tests.api.test_writes import post

ACCOUNTS = """
query Accounts($index: AccountIndex!, $sort: SortOrder, $where: AccountFilterInput,
               $first: Int!, $after: String) {
  accounts(index: {name: $index, sort: $sort}, where: $where, first: $first, after: $after) {
    nodes { accountId name code status externalId }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}
"""

UPDATE = """
mutation Lock($id: UUID!) { updateAccount(id: $id, input: {status: LOCKED}) { status } }
"""

TRAN_CODES = """
query TranCodes($where: TranCodeFilterInput) {
  tranCodes(index: {name: CODE}, where: $where, first: 10) { nodes { code version } }
}
"""

JOURNALS = """
query Journals { journals(index: {name: JOURNAL_ID}, first: 1000) { nodes { journalId } } }
"""

TRANSACTIONS = """
query Transactions($index: TransactionIndex!, $where: TransactionFilterInput) {
  transactions(index: {name: $index}, where: $where, first: 10) {
    nodes { transactionId correlationId }
  }
}
"""


def _open(api: LiveApi, prefix: str, names: list[str]) -> dict[str, str]:
    """Accounts named ``prefix name`` with codes ``PREFIX.N``, the odd ones with an
    externalId; their ids by name."""
    ids = {}
    for n, name in enumerate(names):
        account_id = str(uuid.uuid4())
        account: dict[str, Any] = {"accountId": account_id, "name": f"{prefix} {name}",
                                   "code": f"{prefix}.{n}"}
        if n % 2:
            account["externalId"] = f"{prefix}-ext-{n}"
        api.data(CREATE_ACCOUNT, {"input": account})
        ids[name] = account_id
    return ids


def _all_pages(api: LiveApi, first: int, **variables: Any) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = []
    after = None
    while True:
        listed = api.data(ACCOUNTS, {**variables, "first": first, "after": after})["accounts"]
        nodes += listed["nodes"]
        assert listed["pageInfo"]["hasPreviousPage"] is (after is not None)
        if not listed["pageInfo"]["hasNextPage"]:
            return nodes
        after = listed["pageInfo"]["endCursor"]


def test_accounts_are_listed_by_name_a_page_at_a_time(shared_api: LiveApi) -> None:
    """Pages of two walk every account whose name has the prefix, in name order, both ways."""
    prefix = f"L{uuid.uuid4().hex[:6]}"
    ids = _open(shared_api, prefix, ["Oscar", "Bert", "Ernie", "Abby", "Elmo"])
    where = {"name": {"like": f"{prefix} %"}}
    ascending = _all_pages(shared_api, 2, index="NAME", where=where)
    assert [n["accountId"] for n in ascending] == [ids[name] for name in sorted(ids)]
    descending = _all_pages(shared_api, 2, index="NAME", sort="DESC", where=where)
    assert [n["accountId"] for n in descending] == [ids[name] for name in sorted(ids)][::-1]
    narrow = _all_pages(shared_api, 10, index="NAME",
                        where={"name": {"like": f"{prefix} E%", "lt": f"{prefix} Ernie"}})
    assert [n["accountId"] for n in narrow] == [ids["Elmo"]]


def test_filters_on_other_fields_and_the_external_id_index(shared_api: LiveApi) -> None:
    """A status filter over the code index sees an update; the EXTERNAL_ID index holds only
    accounts that have one; a code range is read with between."""
    prefix = f"F{uuid.uuid4().hex[:6]}"
    ids = _open(shared_api, prefix, ["a", "b", "c", "d"])
    shared_api.data(UPDATE, {"id": ids["c"]})
    locked = _all_pages(shared_api, 10, index="CODE", where={
        "code": {"like": f"{prefix}.%"}, "status": {"eq": "LOCKED"}})
    assert [(n["accountId"], n["status"]) for n in locked] == [(ids["c"], "LOCKED")]
    external = _all_pages(shared_api, 10, index="EXTERNAL_ID",
                          where={"externalId": {"like": f"{prefix}-%"}})
    assert [n["accountId"] for n in external] == [ids["b"], ids["d"]]
    ranged = _all_pages(shared_api, 10, index="CODE",
                        where={"code": {"between": {"begin": f"{prefix}.1",
                                                    "end": f"{prefix}.2"}}})
    assert [n["accountId"] for n in ranged] == [ids["b"], ids["c"]]


def test_tran_codes_journals_and_transactions_are_listed(shared_api: LiveApi) -> None:
    """The chart's tran codes by code prefix, the DEFAULT journal among the journals, and a
    posting found by its id and by its correlation id."""
    chart = open_chart(shared_api)
    suffix = chart.deposit.removeprefix("DEPOSIT_")
    codes = shared_api.data(TRAN_CODES, {"where": {"code": {"like": f"%_{suffix}"}}})
    assert [n["code"] for n in codes["tranCodes"]["nodes"]] == [chart.deposit, chart.withdraw]
    journals = shared_api.data(JOURNALS)["journals"]["nodes"]
    assert {"journalId": str(DEFAULT_JOURNAL_ID)} in journals
    customer = open_customer(shared_api, chart)
    transaction_id = str(uuid.uuid4())
    assert "errors" not in post(shared_api, chart.deposit, customer, "3.00",
                                uuid.UUID(transaction_id))
    by_id = shared_api.data(TRANSACTIONS, {"index": "TRANSACTION_ID",
                                           "where": {"transactionId": {"eq": transaction_id}}})
    [posted] = by_id["transactions"]["nodes"]
    assert posted["transactionId"] == transaction_id
    by_correlation = shared_api.data(TRANSACTIONS, {
        "index": "CORRELATION_ID", "where": {"correlationId": {"eq": posted["correlationId"]}}})
    assert transaction_id in [n["transactionId"] for n in
                              by_correlation["transactions"]["nodes"]]


def test_a_foreign_cursor_and_an_oversized_page_are_refused(shared_api: LiveApi) -> None:
    """Both are bad_request."""
    error = shared_api.error(ACCOUNTS, {"index": "NAME", "first": 2, "after": "bogus"})
    assert error["extensions"]["rule"] == "bad_request"
    error = shared_api.error(ACCOUNTS, {"index": "NAME", "first": 5000})
    assert error["extensions"]["rule"] == "bad_request"


BALANCES = """
query Balances($account: UUID!, $owner: String!, $journal: String!, $after: String) {
  account(id: $account) {
    all: balances(first: 10) { nodes { journalId currency settled { normalBalance { units } } } }
    one: balances(first: 10, where: {journalId: {eq: $journal}}) { nodes { journalId } }
  }
  balances(index: {name: ACCOUNT_ID}, where: {accountId: {eq: $owner}}, first: 1,
           after: $after) {
    nodes { journalId } pageInfo { hasNextPage endCursor }
  }
}
"""


def test_an_account_s_balances_are_listed_in_every_journal(shared_api: LiveApi) -> None:
    """A customer with a balance in the DEFAULT journal and one in another: Account.balances,
    filtered by journal, and Query.balances a page at a time; without an accountId the
    index is refused."""
    api = shared_api
    chart = open_chart(api)
    customer = open_customer(api, chart)
    post(api, chart.deposit, customer, "4.00")
    journal, code = open_books(api, False)
    api.data("""mutation P($id: UUID!, $code: String!, $params: JSON) {
      postTransaction(input: {transactionId: $id, tranCode: $code, params: $params}) {
        transactionId } }""", {"id": str(uuid.uuid4()), "code": code, "params": {
        "account": str(customer), "amount": "1.50", "effective": "2024-05-01"}})
    ids = {"account": str(customer), "owner": str(customer), "journal": journal}
    found = api.data(BALANCES, ids)
    listed = {(b["journalId"], b["settled"]["normalBalance"]["units"])
              for b in found["account"]["all"]["nodes"]}
    assert listed == {(str(DEFAULT_JOURNAL_ID), "4.00"), (journal, "1.50")}
    assert found["account"]["one"]["nodes"] == [{"journalId": journal}]
    first = found["balances"]
    assert first["pageInfo"]["hasNextPage"] is True
    second = api.data(BALANCES, {**ids, "after": first["pageInfo"]["endCursor"]})["balances"]
    assert second["pageInfo"]["hasNextPage"] is False
    assert {first["nodes"][0]["journalId"], second["nodes"][0]["journalId"]} == {
        str(DEFAULT_JOURNAL_ID), journal}
    error = api.error("{ balances(index: {name: ACCOUNT_ID}, first: 1) { nodes { version } } }")
    assert error["extensions"]["rule"] == "bad_request"
