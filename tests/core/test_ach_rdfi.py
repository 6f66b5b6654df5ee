"""RDFI decisions on the pure ledger: each answer's transaction on its layers, the reroute of
a refused posting, ids that repeat, and entries that move no money."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

import pytest

from ledger_core import Account, Layer, MemoryLedger, Posted, Rejected, RejectionCode
from ledger_core import ach_tran_codes as ach
from ledger_core.ach_rdfi import (
    RDFI_TRAN_CODES,
    EntryKind,
    Outcome,
    RdfiDecision,
    Reason,
    ReceivedEntry,
    ReturnAnswer,
    SettleAnswer,
    decide_answer,
    decide_return,
    entry_execution_id,
    posting_for,
    rdfi_file_id,
    reroute,
    settle_encumbered,
)

CUSTOMER = Account.model_validate({
    "accountId": "5a1c0d3e-8b7f-4c2a-9e61-3f0b2d4c6a40", "code": "RDFI.CUSTOMER",
    "name": "RDFI customer"})
FILE_ID = rdfi_file_id(ach.CONFIGURATION.config_id, "026009593", "0764012511", "251114",
                       "0930", "A")
TODAY = date(2025, 11, 14)
_AT = datetime.fromisoformat("2025-11-14T15:00:00+00:00")


def _entry(credit: bool = True, cents: int = 12_345, effective: date = TODAY,
           trace: str = "076401250000001") -> ReceivedEntry:
    return ReceivedEntry(trace_number=trace, kind=EntryKind.FORWARD,
                         transaction_code=22 if credit else 27, credit=credit,
                         amount_cents=cents, effective_date=effective)


def _ledger() -> MemoryLedger:
    ledger = MemoryLedger()
    ach.install(ledger)
    for tran_code in RDFI_TRAN_CODES:
        ledger.add_tran_code(tran_code)
    ledger.add_account(CUSTOMER)
    return ledger


def _signed(sign: int, amount: str) -> str:
    return amount if sign > 0 else f"-{amount}"


def _post(ledger: MemoryLedger, entry: ReceivedEntry, decision: RdfiDecision) -> Posted:
    posting = posting_for(entry, decision, file_id=FILE_ID, configuration=ach.CONFIGURATION)
    assert posting is not None
    posted = ledger.post(posting.command, _AT)
    assert isinstance(posted, Posted), posted
    return posted


def _d(*values: str) -> tuple[Decimal, ...]:
    return tuple(Decimal(value) for value in values)


def _layers(ledger: MemoryLedger, account_id: UUID) -> tuple[Decimal, ...]:
    """The account's normal balance on SETTLED, PENDING and ENCUMBRANCE (not available)."""
    balance = ledger.balance(account_id, ach.JOURNAL.journal_id, "USD")
    if balance is None:
        return _d("0", "0", "0")
    settled, pending, encumbrance = (
        balance.available(layer).normal_balance for layer in
        (Layer.SETTLED, Layer.PENDING, Layer.ENCUMBRANCE))
    # available(layer) sums the layers up to it: take the differences back apart.
    return (settled, pending - settled, encumbrance - pending)


def test_a_credit_due_settles_in_one_transaction() -> None:
    ledger = _ledger()
    entry = _entry()
    decision = decide_answer(SettleAnswer(CUSTOMER.account_id), entry, ach.CONFIGURATION, TODAY)
    assert decision == RdfiDecision(outcome=Outcome.SETTLED, account_id=CUSTOMER.account_id)
    _post(ledger, entry, decision)
    assert _layers(ledger, CUSTOMER.account_id) == _d("123.45", "0", "0")
    assert _layers(ledger, ach.SETTLEMENT.account_id) == _d("123.45", "0", "0")


def test_a_debit_due_takes_the_money_out() -> None:
    ledger = _ledger()
    entry = _entry(credit=False)
    _post(ledger, entry, decide_answer(SettleAnswer(CUSTOMER.account_id), entry,
                                       ach.CONFIGURATION, TODAY))
    assert _layers(ledger, CUSTOMER.account_id) == _d("-123.45", "0", "0")
    assert _layers(ledger, ach.SETTLEMENT.account_id) == _d("-123.45", "0", "0")


@pytest.mark.parametrize("credit", [True, False])
def test_a_future_entry_is_encumbered_then_settled_on_its_date(credit: bool) -> None:
    ledger = _ledger()
    entry = _entry(credit=credit, effective=date(2025, 11, 17))
    sign = 1 if credit else -1
    created = decide_answer(SettleAnswer(CUSTOMER.account_id), entry, ach.CONFIGURATION, TODAY)
    assert created.outcome is Outcome.ENCUMBERED
    _post(ledger, entry, created)
    assert _layers(ledger, CUSTOMER.account_id) == _d("0", "0", _signed(sign, "123.45"))
    assert settle_encumbered(created, entry.effective_date, TODAY) is None
    settled = settle_encumbered(created, entry.effective_date, date(2025, 11, 17))
    assert settled is not None and settled.encumbered
    _post(ledger, entry, settled)
    assert _layers(ledger, CUSTOMER.account_id) == _d(_signed(sign, "123.45"), "0", "0")


def test_a_return_goes_through_the_exception_account() -> None:
    ledger = _ledger()
    entry = _entry()
    decision = decide_answer(ReturnAnswer("R03", CUSTOMER.account_id), entry,
                             ach.CONFIGURATION, TODAY)
    assert (decision.outcome, decision.return_code) == (Outcome.RETURNED, "R03")
    posted = _post(ledger, entry, decision)
    assert (posted.transaction.metadata or {})["returnCode"] == "R03"
    assert _layers(ledger, CUSTOMER.account_id) == _d("0", "0", "0")
    assert _layers(ledger, ach.EXCEPTION.account_id) == _d("123.45", "0", "0")


@pytest.mark.parametrize("reason", [Reason.WEBHOOK_TIMEOUT, Reason.ANSWER_INVALID,
                                    Reason.ANSWER_SIGNATURE_INVALID])
def test_no_usable_answer_goes_to_suspense(reason: Reason) -> None:
    ledger = _ledger()
    entry = _entry()
    decision = decide_answer(reason, entry, ach.CONFIGURATION, TODAY)
    assert decision == RdfiDecision(outcome=Outcome.SUSPENDED, reason=reason)
    _post(ledger, entry, decision)
    assert _layers(ledger, ach.SUSPENSE.account_id) == _d("123.45", "0", "0")


def test_an_answer_naming_a_house_account_goes_to_suspense() -> None:
    decision = decide_answer(SettleAnswer(ach.SETTLEMENT.account_id), _entry(),
                             ach.CONFIGURATION, TODAY)
    assert decision.reason is Reason.ACCOUNT_NOT_CUSTOMER


def test_a_refused_settlement_is_rerouted_by_its_rejection() -> None:
    decision = RdfiDecision(outcome=Outcome.SETTLED, account_id=CUSTOMER.account_id)
    assert reroute(decision, RejectionCode.ACCOUNT_NOT_FOUND) == RdfiDecision(
        outcome=Outcome.SUSPENDED, reason=Reason.ACCOUNT_NOT_FOUND,
        rejection="account_not_found")
    locked = reroute(decision, RejectionCode.ACCOUNT_LOCKED)
    assert (locked.outcome, locked.return_code) == (Outcome.EXCEPTION, "R16")
    limited = reroute(decision, RejectionCode.VELOCITY_LIMIT_EXCEEDED)
    assert (limited.outcome, limited.return_code) == (Outcome.EXCEPTION, "R01")


def test_an_exception_after_an_encumbrance_takes_it_back() -> None:
    ledger = _ledger()
    entry = _entry(effective=date(2025, 11, 17))
    created = decide_answer(SettleAnswer(CUSTOMER.account_id), entry, ach.CONFIGURATION, TODAY)
    _post(ledger, entry, created)
    settled = settle_encumbered(created, entry.effective_date, entry.effective_date)
    assert settled is not None
    _post(ledger, entry, reroute(settled, RejectionCode.ACCOUNT_LOCKED))
    assert _layers(ledger, CUSTOMER.account_id) == _d("0", "0", "0")
    assert _layers(ledger, ach.EXCEPTION.account_id) == _d("123.45", "0", "0")


def test_an_unmatched_return_of_a_credit_brings_the_money_to_suspense() -> None:
    ledger = _ledger()
    returned = ReceivedEntry(trace_number="231380100000001", kind=EntryKind.RETURN,
                             transaction_code=21, credit=True, amount_cents=5_000,
                             effective_date=TODAY)
    decision = decide_return(matched=False)
    assert (decision.outcome, decision.reason) == (Outcome.SUSPENDED, Reason.RETURN_UNMATCHED)
    _post(ledger, returned, decision)
    assert _layers(ledger, ach.SUSPENSE.account_id) == _d("50.00", "0", "0")
    assert decide_return(matched=True).outcome is Outcome.RETURN_MATCHED
    assert decide_return(matched=True, refusal="ach_transition_invalid").reason is \
        Reason.RETURN_REFUSED


def test_ids_are_derived_so_a_file_again_posts_nothing_twice() -> None:
    ledger = _ledger()
    entry = _entry()
    decision = decide_answer(SettleAnswer(CUSTOMER.account_id), entry, ach.CONFIGURATION, TODAY)
    first = posting_for(entry, decision, file_id=FILE_ID, configuration=ach.CONFIGURATION)
    again = posting_for(entry, decision, file_id=FILE_ID, configuration=ach.CONFIGURATION)
    assert first is not None and first == again
    assert first.owner == CUSTOMER.account_id
    assert first.command.params["executionId"] == str(entry_execution_id(FILE_ID,
                                                                         entry.trace_number))
    assert isinstance(ledger.post(first.command, _AT), Posted)
    duplicate = ledger.post(first.command, _AT)
    assert isinstance(duplicate, Rejected)
    assert duplicate.rejection.code is RejectionCode.TRANSACTION_ID_DUPLICATE
    assert rdfi_file_id(ach.CONFIGURATION.config_id, "026009593", "0764012511", "251114",
                        "0930", "B") != FILE_ID


def test_entries_that_move_no_money_post_nothing() -> None:
    assert posting_for(_entry(cents=0), RdfiDecision(outcome=Outcome.NONMONETARY),
                       file_id=FILE_ID, configuration=ach.CONFIGURATION) is None
    assert posting_for(_entry(), RdfiDecision(outcome=Outcome.RETURN_MATCHED),
                       file_id=FILE_ID, configuration=ach.CONFIGURATION) is None
