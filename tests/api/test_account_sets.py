"""Account sets through the API on a real ledger: create, nest, roll up, remove, delete.

A set's balance is the fold of every entry of its journal posted to its members (and the
members of its member sets) since they joined. The processors keep it on the set's own
partition, fed by legs from every partition its members live on; the read model folds the
same entries. Both are checked.
"""

import uuid
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from ledger_core import DEFAULT_JOURNAL_ID
from streams.partitioning import owner_partition
from tests.api.chart import CREATE_ACCOUNT, Chart, open_chart
from tests.api.conftest import LiveApi
from tests.api.test_writes import post

CREATE_SET = """
mutation CreateSet($input: AccountSetInput!) {
  createAccountSet(input: $input) { accountSetId code journalId normalBalanceType status }
}
"""

ADD = """
mutation Add($id: UUID!, $member: UUID!, $type: AccountSetMemberType) {
  addToAccountSet(id: $id, member: {memberId: $member, memberType: $type}) {
    accountSetId
    members(first: 100) {
      nodes { __typename ... on Account { accountId } ... on AccountSet { accountSetId } }
    }
  }
}
"""

REMOVE = """
mutation Remove($id: UUID!, $member: UUID!, $type: AccountSetMemberType) {
  removeFromAccountSet(id: $id, member: {memberId: $member, memberType: $type}) {
    accountSetId
  }
}
"""

DELETE = """
mutation Delete($id: UUID!) { deleteAccountSet(id: $id) { accountSetId status } }
"""

SET = """
query Set($id: UUID!, $currency: CurrencyCode = "USD") {
  accountSet(id: $id) {
    code status
    balance(currency: $currency) {
      accountId version
      settled { drBalance { units } crBalance { units } normalBalance { units } }
    }
    entries(first: 100) { nodes { accountId units direction parentAccountIds } }
    sets(first: 10) { nodes { accountSetId } }
  }
}
"""

ACCOUNT_SETS = """
query Sets($id: UUID!) { account(id: $id) { sets(first: 10) { nodes { accountSetId } } } }
"""

LIST = """
query List($code: String!) {
  accountSets(index: {name: CODE}, where: {code: {like: $code}}, first: 10) {
    nodes { code }
  }
}
"""


def _new_set(api: LiveApi, *, normal: str = "CREDIT", journal: UUID | None = None,
             **extra: Any) -> str:
    set_id = str(uuid.uuid4())
    body: dict[str, Any] = {"accountSetId": set_id, "name": f"set {set_id[:8]}",
                            "normalBalanceType": normal, **extra}
    if journal is not None:
        body["journalId"] = str(journal)
    api.data(CREATE_SET, {"input": body})
    return set_id


def _customer(api: LiveApi, partition: int | None = None, partitions: int = 4,
              **extra: Any) -> UUID:
    """A new customer account, on ``partition`` when one is given."""
    while True:
        account_id = uuid.uuid4()
        if partition is None or owner_partition(account_id, partitions) == partition:
            break
    api.data(CREATE_ACCOUNT, {"input": {"accountId": str(account_id), "name": "Customer",
                                        "code": f"CUST.{account_id.hex[:12]}", **extra}})
    return account_id


def _add(api: LiveApi, set_id: str, member: UUID | str, kind: str = "ACCOUNT"
         ) -> dict[str, Any]:
    return api.send(ADD, {"id": set_id, "member": str(member), "type": kind})


def _set(api: LiveApi, set_id: str) -> dict[str, Any]:
    found: dict[str, Any] = api.data(SET, {"id": set_id})["accountSet"]
    return found


def _normal(found: dict[str, Any]) -> str | None:
    balance = found["balance"]
    return None if balance is None else str(balance["settled"]["normalBalance"]["units"])


@pytest.fixture(scope="module")
def chart(shared_api: LiveApi) -> Chart:
    """The module's house account and tran codes."""
    return open_chart(shared_api)


def test_a_nested_set_rolls_up_its_members_on_every_partition(
    shared_api: LiveApi, chart: Chart,
) -> None:
    """ALL = {ana, VIP}, VIP = {bob}: deposits to customers on different partitions roll up
    into both sets, in the read model and on the processors' balances topic alike."""
    api = shared_api
    partitions = api.ledger.topics.partitions
    everyone, vip = _new_set(api), _new_set(api)
    ana, bob = _customer(api, 0, partitions), _customer(api, 1, partitions)
    assert "errors" not in _add(api, everyone, ana)
    assert "errors" not in _add(api, vip, bob)
    added = api.data(ADD, {"id": everyone, "member": vip, "type": "ACCOUNT_SET"})
    members = added["addToAccountSet"]["members"]["nodes"]
    assert {m.get("accountId") or m.get("accountSetId") for m in members} == {str(ana), vip}

    deposit = post(api, chart.deposit, ana, "10.00")
    assert "errors" not in deposit, deposit
    post(api, chart.deposit, bob, "2.50")
    post(api, chart.withdraw, bob, "1.00")

    assert _normal(_set(api, everyone)) == "11.50"
    vip_found = _set(api, vip)
    assert _normal(vip_found) == "1.50"
    assert [s["accountSetId"] for s in vip_found["sets"]["nodes"]] == [everyone]
    entries = _set(api, everyone)["entries"]["nodes"]
    assert sorted((e["accountId"], e["units"], e["direction"]) for e in entries) == sorted([
        (str(ana), "10.00", "CREDIT"), (str(bob), "2.50", "CREDIT"),
        (str(bob), "1.00", "DEBIT")])
    bob_entry = next(e for e in entries if e["accountId"] == str(bob))
    assert sorted(bob_entry["parentAccountIds"]) == sorted([everyone, vip])
    assert api.data(ACCOUNT_SETS, {"id": str(bob)})["account"]["sets"]["nodes"] == [
        {"accountSetId": vip}]

    # The processors' own record of the set's balance (the CDC topic), once every leg
    # (on the set's partition, from ana's and bob's) is applied.
    client = api.ledger.client()
    client.wait_converged()
    [cdc] = client.balances(UUID(everyone))
    assert cdc.journal_id == DEFAULT_JOURNAL_ID
    assert cdc.settled.normal_balance == Decimal("11.50")
    assert cdc.version == 3


def test_membership_counts_from_when_it_starts_and_ends_when_it_is_removed(
    shared_api: LiveApi, chart: Chart,
) -> None:
    """Entries posted before a member joined, or after it left, do not roll up; a void
    reverses exactly what its original rolled up."""
    api = shared_api
    group = _new_set(api)
    carol = _customer(api)
    post(api, chart.deposit, carol, "4.00")
    _add(api, group, carol)
    joined = uuid.uuid4()
    post(api, chart.deposit, carol, "3.00", transaction_id=joined)
    assert _normal(_set(api, group)) == "3.00"
    assert "errors" not in api.send(REMOVE, {"id": group, "member": str(carol),
                                             "type": "ACCOUNT"})
    post(api, chart.deposit, carol, "5.00")
    assert _normal(_set(api, group)) == "3.00"
    void = api.send("mutation V($id: UUID!) { voidTransaction(id: $id) { transactionId } }",
                    {"id": str(joined)})
    assert "errors" not in void, void
    assert _normal(_set(api, group)) == "0.00"


def test_a_set_reads_its_roll_up_with_its_own_normal_balance_type(
    shared_api: LiveApi, chart: Chart,
) -> None:
    """One credit-normal customer in a debit-normal and a credit-normal set: the same
    credit reads -7.00 in the first and 7.00 in the second."""
    api = shared_api
    debit_set, credit_set = _new_set(api, normal="DEBIT"), _new_set(api, normal="CREDIT")
    customer = _customer(api)
    _add(api, debit_set, customer)
    _add(api, credit_set, customer)
    post(api, chart.deposit, customer, "7.00")
    debit_found = _set(api, debit_set)
    assert _normal(debit_found) == "-7.00"
    assert debit_found["balance"]["settled"]["crBalance"]["units"] == "7.00"
    assert _normal(_set(api, credit_set)) == "7.00"


def test_cycles_other_journals_and_unknown_members_are_refused(shared_api: LiveApi) -> None:
    """A set cannot contain itself, directly or through others; sets hold only sets of
    their journal; members must exist; codes are unique."""
    api = shared_api
    top, middle, bottom = _new_set(api), _new_set(api), _new_set(api)
    api.data(ADD, {"id": top, "member": middle, "type": "ACCOUNT_SET"})
    api.data(ADD, {"id": middle, "member": bottom, "type": "ACCOUNT_SET"})
    for set_id, member in ((bottom, top), (top, top)):
        error = api.error(ADD, {"id": set_id, "member": member, "type": "ACCOUNT_SET"})
        assert error["extensions"]["rule"] == "account_set_cycle", error
    journal = uuid.uuid4()
    api.data("mutation J($id: UUID!) { createJournal(input: {journalId: $id, name: \"j\"}) "
             "{ journalId } }", {"id": str(journal)})
    elsewhere = _new_set(api, journal=journal)
    error = api.error(ADD, {"id": top, "member": elsewhere, "type": "ACCOUNT_SET"})
    assert error["extensions"]["rule"] == "account_set_journal_mismatch"
    error = api.error(ADD, {"id": top, "member": str(uuid.uuid4()), "type": "ACCOUNT"})
    assert error["extensions"]["rule"] == "account_not_found"
    assert error["extensions"]["code"] == "NOT_FOUND"
    error = api.error(ADD, {"id": str(uuid.uuid4()), "member": top, "type": "ACCOUNT_SET"})
    assert error["extensions"]["rule"] == "account_set_not_found"
    code = f"DUP_{uuid.uuid4().hex[:8]}"
    _new_set(api, code=code)
    error = api.error(CREATE_SET, {"input": {"accountSetId": str(uuid.uuid4()), "name": "x",
                                             "code": code}})
    assert error["extensions"]["rule"] == "account_set_code_duplicate"
    assert error["extensions"]["code"] == "UNIQUE_CONSTRAINT_VIOLATION"


def test_a_set_of_another_journal_takes_no_entries_of_the_default_journal(
    shared_api: LiveApi, chart: Chart,
) -> None:
    """An account in a set of another journal: its DEFAULT-journal entries stay out."""
    api = shared_api
    journal = uuid.uuid4()
    api.data("mutation J($id: UUID!) { createJournal(input: {journalId: $id, name: \"j\"}) "
             "{ journalId } }", {"id": str(journal)})
    other = _new_set(api, journal=journal)
    dan = _customer(api)
    _add(api, other, dan)
    posted = post(api, chart.deposit, dan, "6.00")
    [entry] = [e for e in posted["data"]["postTransaction"]["entries"]["nodes"]
               if e["accountId"] == str(dan)]
    assert _set(api, other)["balance"] is None
    assert api.data(SET, {"id": other})["accountSet"]["entries"]["nodes"] == []
    assert entry["units"] == "6.00"


def test_a_deleted_set_keeps_its_balance_and_takes_nothing_more(
    shared_api: LiveApi, chart: Chart,
) -> None:
    """deleteAccountSet locks the set: its balance so far stays, later entries of its
    members do not roll up, and it takes no new member."""
    api = shared_api
    doomed = _new_set(api)
    erin = _customer(api)
    _add(api, doomed, erin)
    post(api, chart.deposit, erin, "1.25")
    deleted = api.data(DELETE, {"id": doomed})["deleteAccountSet"]
    assert deleted["status"] == "LOCKED"
    post(api, chart.deposit, erin, "8.00")
    assert _normal(_set(api, doomed)) == "1.25"
    error = api.error(ADD, {"id": doomed, "member": str(_customer(api)), "type": "ACCOUNT"})
    assert error["extensions"]["rule"] == "account_set_locked"


def test_create_account_joins_its_sets_and_unknown_sets_create_nothing(
    shared_api: LiveApi, chart: Chart,
) -> None:
    """accountSetIds on createAccount and createAccountSet; a code is generated when none is
    given, and sets are listed by code."""
    api = shared_api
    parent = _new_set(api)
    generated = api.data(CREATE_SET, {"input": {"accountSetId": str(uuid.uuid4()),
                                                "name": "child", "accountSetIds": [parent]}})
    child = generated["createAccountSet"]
    assert child["code"] == f"SET_{UUID(child['accountSetId']).hex.upper()}"
    account_id = uuid.uuid4()
    api.data(CREATE_ACCOUNT, {"input": {"accountId": str(account_id), "name": "Fay",
                                        "code": f"FAY.{account_id.hex[:8]}",
                                        "accountSetIds": [child["accountSetId"]]}})
    post(api, chart.deposit, account_id, "9.99")
    assert _normal(_set(api, parent)) == "9.99"
    assert _normal(_set(api, child["accountSetId"])) == "9.99"

    missing, refused = uuid.uuid4(), uuid.uuid4()
    error = api.error(CREATE_ACCOUNT, {"input": {"accountId": str(refused), "name": "Gus",
                                                 "code": f"GUS.{refused.hex[:8]}",
                                                 "accountSetIds": [str(missing)]}})
    assert error["extensions"]["rule"] == "account_set_not_found"
    assert api.data("query A($id: UUID!) { account(id: $id) { accountId } }",
                    {"id": str(refused)})["account"] is None
    listed = api.data(LIST, {"code": child["code"][:12] + "%"})["accountSets"]["nodes"]
    assert {"code": child["code"]} in listed


FILTERED = """
query Filtered($set: UUID!, $account: UUID!, $member: String!, $journal: String!) {
  accountSet(id: $set) {
    eur: entries(first: 10, where: {currency: {eq: "EUR"}}) { nodes { units currency } }
    usd: entries(first: 10, where: {currency: {eq: "USD"}}) { nodes { units currency } }
    members(first: 10, where: {memberId: {eq: $member}}) {
      nodes { ... on Account { accountId } }
    }
    balance { entry { units } entries(first: 10) { nodes { units } } account { accountId } }
  }
  account(id: $account) {
    inJournal: entries(first: 10, where: {journalId: {eq: $journal}}) { nodes { units } }
    elsewhere: entries(first: 10, where: {journalId: {like: "ffff%"}}) { nodes { units } }
  }
}
"""


def test_entries_and_members_filter_by_where_and_a_balance_lists_its_entries(
    shared_api: LiveApi, chart: Chart,
) -> None:
    """entries(where: currency / journalId), members(where: memberId), Balance.entry and
    Balance.entries on a set's balance (whose account is null: it is a set's)."""
    api = shared_api
    group = _new_set(api)
    hal, ida = _customer(api), _customer(api)
    _add(api, group, hal)
    _add(api, group, ida)
    post(api, chart.deposit, hal, "2.00")
    post(api, chart.deposit, ida, "3.00")
    found = api.data(FILTERED, {"set": group, "account": str(hal), "member": str(ida),
                                "journal": str(DEFAULT_JOURNAL_ID)})
    the_set = found["accountSet"]
    assert the_set["eur"]["nodes"] == []
    assert sorted(e["units"] for e in the_set["usd"]["nodes"]) == ["2.00", "3.00"]
    assert the_set["members"]["nodes"] == [{"accountId": str(ida)}]
    balance = the_set["balance"]
    assert balance["entry"] == {"units": "3.00"}
    assert [e["units"] for e in balance["entries"]["nodes"]] == ["2.00", "3.00"]
    assert balance["account"] is None
    assert found["account"]["inJournal"]["nodes"] == [{"units": "2.00"}]
    assert found["account"]["elsewhere"]["nodes"] == []


DRY_RUN = """
mutation Dry($id: UUID!, $code: String!, $params: JSON, $set: UUID!) @dryRun {
  postTransaction(input: {transactionId: $id, tranCode: $code, params: $params}) {
    transactionId
  }
  queries { accountSet(id: $set) { balance { settled { normalBalance { units } } } } }
}
"""


def test_a_dry_run_shows_the_roll_up_it_would_leave_and_writes_none(
    shared_api: LiveApi, chart: Chart,
) -> None:
    """Inside a @dryRun document the member's posting rolls up into its set; afterwards
    the set is as it was."""
    api = shared_api
    group = _new_set(api)
    jo = _customer(api)
    _add(api, group, jo)
    post(api, chart.deposit, jo, "1.00")
    inside = api.data(DRY_RUN, {"id": str(uuid.uuid4()), "code": chart.deposit, "set": group,
                                "params": {"account": str(jo), "amount": "2.00"}})
    assert inside["queries"]["accountSet"]["balance"]["settled"]["normalBalance"] == {
        "units": "3.00"}
    assert _normal(_set(api, group)) == "1.00"
