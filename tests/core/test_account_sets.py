"""Account sets in the pure core: the catalog's rules for them, and the roll-up of entries
onto set balances (in the decision, on other partitions, and through voids)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest

from ledger_core import (
    DEFAULT_JOURNAL_ID,
    AccountSet,
    AccountSetMember,
    Direction,
    MemberType,
    MemoryLedger,
    Posted,
    Rejected,
    RejectionCode,
    VoidTransaction,
    tutorial,
)
from ledger_core.catalog import Catalog, CatalogKind, decide_catalog

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
J = tutorial.JOURNAL_ID
ERNIE, BERT, ASSETS = (tutorial.ERNIE.account_id, tutorial.BERT.account_id,
                       tutorial.ASSETS.account_id)


def put_decision(catalog: Catalog, kind: CatalogKind, body: dict[str, Any]) -> Any:
    """Decide a catalog change and, when accepted, put it in ``catalog``; the decision."""
    decision = decide_catalog(catalog, kind, body)
    if not isinstance(decision, Rejected):
        catalog.put(decision)
    return decision


def _set(catalog: Catalog, code: str, journal: UUID = J, **extra: Any) -> UUID:
    set_id = uuid4()
    decided = put_decision(catalog, CatalogKind.CREATE_ACCOUNT_SET, {
        "accountSetId": str(set_id), "journalId": str(journal), "name": code, "code": code,
        **extra})
    assert isinstance(decided, AccountSet), decided
    return set_id


def _add(catalog: Catalog, set_id: UUID, member: UUID,
         kind: MemberType = MemberType.ACCOUNT) -> Any:
    return put_decision(catalog, CatalogKind.ADD_TO_ACCOUNT_SET, {
        "accountSetId": str(set_id), "memberId": str(member), "memberType": kind.value})


def test_parent_sets_are_every_active_ancestor_of_the_entry_s_journal(
    tutorial_ledger: MemoryLedger,
) -> None:
    ledger = tutorial_ledger
    """Nested and shared membership, another journal's set, and a deleted set in the
    middle of a chain."""
    top, middle, lone = _set(ledger, "TOP"), _set(ledger, "MIDDLE"), _set(ledger, "LONE")
    elsewhere = _set(ledger, "ELSEWHERE", journal=DEFAULT_JOURNAL_ID)
    _add(ledger, top, middle, MemberType.ACCOUNT_SET)
    _add(ledger, middle, ERNIE)
    _add(ledger, lone, ERNIE)
    _add(ledger, elsewhere, ERNIE)
    assert ledger.parent_sets(ERNIE, J) == tuple(sorted([top, middle, lone]))
    assert ledger.parent_sets(ERNIE, DEFAULT_JOURNAL_ID) == (elsewhere,)
    assert ledger.parent_sets(BERT, J) == ()
    deleted = put_decision(ledger, CatalogKind.DELETE_ACCOUNT_SET, {"accountSetId": str(middle)})
    assert deleted.status.value == "LOCKED"
    assert ledger.parent_sets(ERNIE, J) == (lone,)


@pytest.mark.parametrize(("build", "rule"), [
    ("self", RejectionCode.ACCOUNT_SET_CYCLE),
    ("cycle", RejectionCode.ACCOUNT_SET_CYCLE),
    ("journal", RejectionCode.ACCOUNT_SET_JOURNAL_MISMATCH),
    ("unknown_account", RejectionCode.ACCOUNT_NOT_FOUND),
    ("unknown_set", RejectionCode.ACCOUNT_SET_NOT_FOUND),
    ("locked", RejectionCode.ACCOUNT_SET_LOCKED),
    ("not_a_member", RejectionCode.ACCOUNT_SET_MEMBER_NOT_FOUND),
    ("account_id", RejectionCode.ACCOUNT_SET_ID_DUPLICATE),
    ("code", RejectionCode.ACCOUNT_SET_CODE_DUPLICATE),
    ("set_id_as_account", RejectionCode.ACCOUNT_ID_DUPLICATE),
])
def test_each_membership_rule_answers_with_its_code(tutorial_ledger: MemoryLedger, build: str,
                                                    rule: RejectionCode) -> None:
    """Every refusal of the set rules, each with the code naming it."""
    ledger = tutorial_ledger
    a, b = _set(ledger, "A"), _set(ledger, "B")
    _add(ledger, a, b, MemberType.ACCOUNT_SET)
    decided: Any
    if build == "self":
        decided = _add(ledger, a, a, MemberType.ACCOUNT_SET)
    elif build == "cycle":
        decided = _add(ledger, b, a, MemberType.ACCOUNT_SET)
    elif build == "journal":
        decided = _add(ledger, a, _set(ledger, "D", journal=DEFAULT_JOURNAL_ID),
                       MemberType.ACCOUNT_SET)
    elif build == "unknown_account":
        decided = _add(ledger, a, uuid4())
    elif build == "unknown_set":
        decided = _add(ledger, uuid4(), ERNIE)
    elif build == "locked":
        put_decision(ledger, CatalogKind.DELETE_ACCOUNT_SET, {"accountSetId": str(b)})
        decided = _add(ledger, b, ERNIE)
    elif build == "not_a_member":
        decided = decide_catalog(ledger, CatalogKind.REMOVE_FROM_ACCOUNT_SET, {
            "accountSetId": str(a), "memberId": str(ERNIE), "memberType": "ACCOUNT"})
    elif build == "account_id":
        decided = decide_catalog(ledger, CatalogKind.CREATE_ACCOUNT_SET, {
            "accountSetId": str(ERNIE), "name": "x", "code": "X"})
    elif build == "code":
        decided = decide_catalog(ledger, CatalogKind.CREATE_ACCOUNT_SET, {
            "accountSetId": str(uuid4()), "name": "x", "code": "A"})
    else:
        decided = decide_catalog(ledger, CatalogKind.CREATE_ACCOUNT, {
            "accountId": str(a), "name": "x", "code": "X.ACCOUNT"})
    assert isinstance(decided, Rejected), decided
    assert decided.code is rule, decided


def test_repeats_are_accepted_and_a_code_is_generated(tutorial_ledger: MemoryLedger) -> None:
    """A re-sent create or add changes nothing; a set without a code gets one."""
    ledger = tutorial_ledger
    set_id = uuid4()
    body = {"accountSetId": str(set_id), "journalId": str(J), "name": "Customers"}
    first = put_decision(ledger, CatalogKind.CREATE_ACCOUNT_SET, body)
    assert first.code == f"SET_{set_id.hex.upper()}"
    assert decide_catalog(ledger, CatalogKind.CREATE_ACCOUNT_SET, body) == first
    added = _add(ledger, set_id, ERNIE)
    assert _add(ledger, set_id, ERNIE) == added


def test_a_membership_without_its_set_is_passed_over() -> None:
    """A compacted topic may deliver a membership before its set; a forged one may name no
    set at all. Neither stops postings to the account."""
    catalog = Catalog()
    catalog.put(tutorial.ERNIE)
    catalog.put(AccountSetMember(account_set_id=uuid4(), member_id=ERNIE,
                                 member_type=MemberType.ACCOUNT))
    assert catalog.parent_sets(ERNIE, J) == ()


def _settled(ledger: MemoryLedger, owner: UUID) -> tuple[Decimal, Decimal, Decimal] | None:
    balance = ledger.balance(owner, J, "USD")
    if balance is None:
        return None
    return balance.settled.dr, balance.settled.cr, balance.settled.normal_balance


def test_postings_roll_up_into_nested_sets_with_each_set_s_normal_balance_type(
    tutorial_ledger: MemoryLedger,
) -> None:
    ledger = tutorial_ledger
    """ALL (debit-normal) = {CUSTOMERS}; CUSTOMERS (credit-normal) = {ernie, bert}: the
    tutorial's deposit and withdrawal, and their void."""
    everyone = _set(ledger, "ALL", normalBalanceType="DEBIT")
    customers = _set(ledger, "CUSTOMERS")
    _add(ledger, everyone, customers, MemberType.ACCOUNT_SET)
    _add(ledger, customers, ERNIE)
    _add(ledger, customers, BERT)
    deposit = ledger.post(tutorial.DEPOSIT, NOW)
    assert isinstance(deposit, Posted), deposit
    [ernie_entry] = [e for e in deposit.entries if e.account_id == ERNIE]
    assert ernie_entry.parent_account_ids == tuple(sorted([everyone, customers]))
    [assets_entry] = [e for e in deposit.entries if e.account_id == ASSETS]
    assert assets_entry.parent_account_ids == ()
    assert isinstance(ledger.post(tutorial.WITHDRAWAL, NOW), Posted)
    assert _settled(ledger, customers) == (Decimal("4.28"), Decimal("9.53"), Decimal("5.25"))
    assert _settled(ledger, everyone) == (Decimal("4.28"), Decimal("9.53"), Decimal("-5.25"))
    balance = ledger.balance(everyone, J, "USD")
    assert balance is not None
    assert balance.normal_balance_type is Direction.DEBIT
    assert balance.version == 2

    # The void's entries repeat the sets of those they reverse, even once the account left.
    put_decision(ledger, CatalogKind.REMOVE_FROM_ACCOUNT_SET, {
        "accountSetId": str(customers), "memberId": str(ERNIE), "memberType": "ACCOUNT"})
    void = ledger.post(VoidTransaction(void_of=tutorial.WITHDRAWAL.transaction_id), NOW)
    assert isinstance(void, Posted), void
    # A void writes the same directions with negated units, so the debit total goes back.
    assert _settled(ledger, customers) == (Decimal("0.00"), Decimal("9.53"), Decimal("9.53"))
    after = ledger.post(tutorial.DEPOSIT.model_copy(update={"transaction_id": uuid4()}), NOW)
    assert isinstance(after, Posted)
    assert _settled(ledger, customers) == (Decimal("0.00"), Decimal("9.53"), Decimal("9.53"))


def test_a_set_on_another_partition_is_folded_there_from_the_entry(
    tutorial_ledger: MemoryLedger,
) -> None:
    ledger = tutorial_ledger
    """The deciding partition owns the accounts, another owns the set: the decision folds
    only the accounts, and the set's owner folds the same entries onto the set."""
    customers = _set(ledger, "CUSTOMERS")
    _add(ledger, customers, ERNIE)
    decider = MemoryLedger(owns=lambda account_id: account_id != customers)
    owner = MemoryLedger(owns=lambda account_id: account_id == customers)
    for part in (decider, owner):
        tutorial.install(part)
        for entity in (*ledger.account_sets.values(), *ledger.set_members[customers].values()):
            part.put(entity)
    decision = decider.post(tutorial.DEPOSIT, NOW)
    assert isinstance(decision, Posted), decision
    assert {b.account_id for b in decision.balances} == {ERNIE, ASSETS}
    assert decision.remote_entries == ()
    [folded] = owner.commit_remote(decision.entries)
    assert folded.account_id == customers
    assert folded.settled.normal_balance == Decimal("9.53")
    assert owner.balance(ERNIE, J, "USD") is None
