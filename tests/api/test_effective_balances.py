"""Balances as of an accounting date through the API: Twisp's ``effective`` argument on a
journal created with ``config.enableEffectiveBalances``, with back-dated postings."""

import uuid
from typing import Any

from tests.api.chart import CREATE_ACCOUNT, POST, open_books
from tests.api.conftest import LiveApi

AS_OF = """
query AsOf($account: UUID!, $journal: UUID!, $set: UUID!, $effective: Effective!) {
  account(id: $account) {
    balance(journalId: $journal, effective: $effective) {
      version settled { normalBalance { units } }
    }
  }
  accountSet(id: $set) {
    balance(effective: $effective) { settled { normalBalance { units } } }
  }
}
"""


def _units(found: dict[str, Any] | None) -> str | None:
    return None if found is None else str(found["settled"]["normalBalance"]["units"])


def test_effective_balances_follow_back_dated_postings(shared_api: LiveApi) -> None:
    """Cumulative, period and range reads of an account and of a set, before and after a
    posting back-dated into January."""
    api = shared_api
    journal, code = open_books(api, True)
    account = str(uuid.uuid4())
    group = str(uuid.uuid4())
    api.data("mutation S($id: UUID!, $j: UUID!) { createAccountSet(input: {accountSetId: $id, "
             "name: \"books set\", journalId: $j}) { accountSetId } }",
             {"id": group, "j": journal})
    api.data(CREATE_ACCOUNT, {"input": {"accountId": account, "name": "Customer",
                                        "code": f"C.{account[:8]}", "accountSetIds": [group]}})

    def post(amount: str, on: str) -> None:
        api.data(POST, {"id": str(uuid.uuid4()), "code": code,
                        "params": {"account": account, "amount": amount, "effective": on}})

    def read(**effective: Any) -> tuple[str | None, str | None]:
        found = api.data(AS_OF, {"account": account, "journal": journal, "set": group,
                                 "effective": effective})
        return (_units(found["account"]["balance"]), _units(found["accountSet"]["balance"]))

    post("10.00", "2024-01-15")
    post("5.00", "2024-02-10")
    assert read(cumulative="2024-01-31") == ("10.00", "10.00")
    post("1.00", "2024-01-20")  # back-dated: every later effective balance moves
    assert read(cumulative="2024-01-31") == ("11.00", "11.00")
    assert read(cumulative="2024-02-10") == ("16.00", "16.00")
    assert read(cumulative="2023-12-31") == (None, None)
    assert read(period="2024-02") == ("5.00", "5.00")
    assert read(period="2024-01-20") == ("1.00", "1.00")
    assert read(period="2024") == ("16.00", "16.00")
    assert read(range={"gte": "2024-01", "lte": "2024-01"}) == ("11.00", "11.00")
    assert read(range={"gte": "2024-01-16", "lte": "2024-02"}) == ("6.00", "6.00")


def test_effective_reads_need_the_journal_to_enable_them_and_a_valid_period(
    shared_api: LiveApi,
) -> None:
    """A journal without the switch, a malformed period and two kinds at once are refused
    as bad requests."""
    api = shared_api
    journal, code = open_books(api, False)
    account = str(uuid.uuid4())
    api.data(CREATE_ACCOUNT, {"input": {"accountId": account, "name": "Customer",
                                        "code": f"C.{account[:8]}"}})
    api.data(POST, {"id": str(uuid.uuid4()), "code": code,
                    "params": {"account": account, "amount": "1.00", "effective": "2024-03-01"}})
    query = ("query Q($a: UUID!, $j: UUID!, $e: Effective!) { account(id: $a) { "
             "balance(journalId: $j, effective: $e) { version } } }")
    error = api.error(query, {"a": account, "j": journal, "e": {"cumulative": "2024-12-31"}})
    assert error["extensions"]["rule"] == "bad_request"
    assert "enableEffectiveBalances" in error["message"]
    enabled, _ = open_books(api, True)
    for effective in ({"period": "2024-13"}, {"period": "24"},
                      {"period": "2024", "cumulative": "2024-01-01"},
                      {"range": {"gte": "2024-03", "lte": "2024-01"}}):
        error = api.error(query, {"a": account, "j": enabled, "e": effective})
        assert error["extensions"]["rule"] == "bad_request", (effective, error)
