"""The Twisp 101 tutorial (deposits and withdrawals) replayed against the pure engine."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from uuid import uuid5

from ledger_core import Balance, Direction, MemoryLedger, Posted, fold_entry, tutorial


def _post_both(ledger: MemoryLedger, now: datetime) -> tuple[Posted, Posted]:
    deposit = ledger.post(tutorial.DEPOSIT, now)
    withdrawal = ledger.post(tutorial.WITHDRAWAL, now)
    assert isinstance(deposit, Posted)
    assert isinstance(withdrawal, Posted)
    return deposit, withdrawal


def test_balances_are_null_before_any_posting(tutorial_ledger: MemoryLedger) -> None:
    """Every account starts with no balance at all in the tutorial's journal."""
    for account in tutorial.ACCOUNTS:
        assert tutorial_ledger.balance(account.account_id, tutorial.JOURNAL_ID, "USD") is None


def test_deposit_writes_two_settled_entries(tutorial_ledger: MemoryLedger, now: datetime) -> None:
    """The 9.53 deposit debits the assets and credits Ernie, in template order."""
    deposit = tutorial_ledger.post(tutorial.DEPOSIT, now)
    assert isinstance(deposit, Posted)
    first, second = deposit.entries
    assert (first.sequence, first.account_id, first.direction, first.entry_type) == (
        1, tutorial.ASSETS.account_id, Direction.DEBIT, "ACH_DR",
    )  # fmt: skip
    assert (second.sequence, second.account_id, second.direction, second.entry_type) == (
        2, tutorial.ERNIE.account_id, Direction.CREDIT, "ACH_CR",
    )  # fmt: skip
    assert {e.units for e in deposit.entries} == {Decimal("9.53")}
    assert deposit.transaction.journal_id == tutorial.JOURNAL_ID
    assert deposit.transaction.effective == date(2022, 9, 21)
    assert deposit.transaction.tran_code_id == tutorial.ACH_CREDIT.tran_code_id


def test_deposit_then_withdrawal_leaves_five_twenty_five(
    tutorial_ledger: MemoryLedger, now: datetime
) -> None:
    """After 9.53 in and 4.28 out, Ernie and the assets both stand at 5.25 settled."""
    _post_both(tutorial_ledger, now)
    ernie = tutorial_ledger.balance(tutorial.ERNIE.account_id, tutorial.JOURNAL_ID, "USD")
    assets = tutorial_ledger.balance(tutorial.ASSETS.account_id, tutorial.JOURNAL_ID, "USD")
    assert ernie is not None
    assert assets is not None
    assert ernie.settled.normal_balance == Decimal("5.25")
    assert (ernie.settled.dr, ernie.settled.cr) == (Decimal("4.28"), Decimal("9.53"))
    assert assets.settled.normal_balance == Decimal("5.25")
    assert (assets.settled.dr, assets.settled.cr) == (Decimal("9.53"), Decimal("4.28"))
    assert ernie.version == 2
    assert tutorial_ledger.balance(tutorial.BERT.account_id, tutorial.JOURNAL_ID, "USD") is None


def test_correlation_id_defaults_to_transaction_id(
    tutorial_ledger: MemoryLedger, now: datetime
) -> None:
    """A tran code without a correlationId template correlates the transaction with itself."""
    deposit, _ = _post_both(tutorial_ledger, now)
    assert deposit.transaction.correlation_id == str(tutorial.DEPOSIT.transaction_id)


def test_tran_codes_round_trip_to_the_wire_shape() -> None:
    """The tran codes dump back to the camelCase shape they were created from."""
    dumped = tutorial.ACH_CREDIT.model_dump(by_alias=True, exclude_none=True)
    assert dumped["entries"][0]["entryType"] == "'ACH_DR'"
    assert (
        dumped["transaction"]["journalId"] == tutorial.ACH_CREDIT_INPUT["transaction"]["journalId"]
    )


def test_entry_ids_are_uuid5_of_transaction_and_sequence(
    tutorial_ledger: MemoryLedger, now: datetime
) -> None:
    """Entry ids are derived, so re-deciding a command names the same entries."""
    deposit, _ = _post_both(tutorial_ledger, now)
    for entry in deposit.entries:
        assert entry.entry_id == uuid5(entry.transaction_id, str(entry.sequence))


def test_balances_rebuild_from_the_entries_log(
    tutorial_ledger: MemoryLedger, now: datetime
) -> None:
    """Folding the entries log from nothing gives the stored balances, versions included."""
    _post_both(tutorial_ledger, now)
    rebuilt: dict[tuple[object, ...], Balance] = {}
    for entry in tutorial_ledger.entries_log:
        key = (entry.account_id, entry.journal_id, entry.currency)
        account = tutorial_ledger.accounts[entry.account_id]
        rebuilt[key] = fold_entry(rebuilt.get(key), entry, account.normal_balance_type)
    assert rebuilt == tutorial_ledger.balances
