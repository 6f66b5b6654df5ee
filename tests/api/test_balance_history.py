"""Balance history and Entry.balance through the API on a real ledger: every version of a
balance, one per entry it folded, and the version each entry produced."""

from datetime import datetime, timedelta

import pytest

from tests.api.chart import Chart, open_chart, open_customer
from tests.api.conftest import LiveApi
from tests.api.test_writes import post

HISTORY = """
query History($account: UUID!, $first: Int!, $after: String, $where: BalanceHistoryFilterInput) {
  account(id: $account) {
    balance {
      version
      history(first: $first, after: $after, where: $where) {
        nodes { version modified entryId settled { normalBalance { units } } }
        pageInfo { hasNextPage endCursor }
      }
    }
    entries(first: 10) {
      nodes { entryId units balance { version settled { normalBalance { units } } } }
    }
  }
}
"""


@pytest.fixture(scope="module")
def chart(shared_api: LiveApi) -> Chart:
    """The module's house account and tran codes."""
    return open_chart(shared_api)


def test_a_balance_lists_every_version_latest_first_and_each_entry_its_own(
        shared_api: LiveApi, chart: Chart) -> None:
    api = shared_api
    customer = open_customer(api, chart)
    for code, amount in ((chart.deposit, "10.00"), (chart.withdraw, "3.00"),
                         (chart.deposit, "1.50")):
        assert "errors" not in post(api, code, customer, amount)
    found = api.data(HISTORY, {"account": str(customer), "first": 2})["account"]
    page = found["balance"]["history"]
    assert found["balance"]["version"] == 3
    assert [(n["version"], n["settled"]["normalBalance"]["units"]) for n in page["nodes"]] \
        == [(3, "8.50"), (2, "7.00")]
    assert page["pageInfo"]["hasNextPage"] is True
    rest = api.data(HISTORY, {"account": str(customer), "first": 2,
                              "after": page["pageInfo"]["endCursor"]})
    [first] = rest["account"]["balance"]["history"]["nodes"]
    assert (first["version"], first["settled"]["normalBalance"]["units"]) == (1, "10.00")
    by_entry = {n["entryId"]: n for n in (*page["nodes"], first)}
    for entry in found["entries"]["nodes"]:
        assert entry["balance"]["version"] == by_entry[entry["entryId"]]["version"]
        assert entry["balance"]["settled"] == by_entry[entry["entryId"]]["settled"]
    # Versions after the second entry's instant: the third only.
    second = datetime.fromisoformat(page["nodes"][1]["modified"].replace("Z", "+00:00"))
    later = api.data(HISTORY, {"account": str(customer), "first": 10,
                               "where": {"modified": {"gt": second.isoformat()}}})
    assert [n["version"] for n in later["account"]["balance"]["history"]["nodes"]] == [3]
    before = (second - timedelta(microseconds=1)).isoformat()
    earlier = api.data(HISTORY, {"account": str(customer), "first": 10,
                                 "where": {"committed": {"lte": before}}})
    assert [n["version"] for n in earlier["account"]["balance"]["history"]["nodes"]] == [1]
    error = api.error(HISTORY, {"account": str(customer), "first": 10,
                                "where": {"modified": {"gt": "yesterday"}}})
    assert error["extensions"]["code"] == "BAD_REQUEST"
