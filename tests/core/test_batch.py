"""decide_batch: one pass over a batch decides each command as if decided alone, in order."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID, uuid4

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger_core import (
    Command,
    MemoryLedger,
    Posted,
    PostTransaction,
    Rejected,
    RejectionCode,
    VoidTransaction,
    apply,
    card_lifecycle,
)
from ledger_core.batch import decide_batch
from ledger_core.views import BalanceKey
from tests.core.conftest import NOW

CUSTOMER = str(card_lifecycle.CUSTOMER.account_id)


def _ledger() -> MemoryLedger:
    ledger = MemoryLedger()
    card_lifecycle.install(ledger)
    return ledger


def _deposit(amount: str, transaction_id: UUID | None = None) -> PostTransaction:
    return PostTransaction(transaction_id=transaction_id or uuid4(), tran_code="DEPOSIT",
                           params={"account": CUSTOMER, "amount": amount})


def _hold(amount: str, transaction_id: UUID | None = None) -> PostTransaction:
    return PostTransaction(transaction_id=transaction_id or uuid4(), tran_code="CARD_HOLD",
                           params={"account": CUSTOMER, "amount": amount})


def test_a_later_command_sees_an_earlier_one_of_the_same_batch() -> None:
    """A hold that only the batch's own deposit funds is posted; alone it is refused."""
    alone = decide_batch(_ledger(), [_hold("40.00")], NOW)
    assert isinstance(alone[0], Rejected)
    assert alone[0].code is RejectionCode.VELOCITY_LIMIT_EXCEEDED
    deposit, hold = decide_batch(_ledger(), [_deposit("50.00"), _hold("40.00")], NOW)
    assert isinstance(deposit, Posted) and isinstance(hold, Posted)
    [after] = [b for b in hold.balances if str(b.account_id) == CUSTOMER]
    assert after.version == 2


def test_an_id_repeated_in_a_batch_is_a_duplicate_the_second_time() -> None:
    """The batch's own postings count for idempotency."""
    transaction_id = uuid4()
    first, second = decide_batch(_ledger(), [_deposit("5.00", transaction_id),
                                             _deposit("7.00", transaction_id)], NOW)
    assert isinstance(first, Posted)
    assert isinstance(second, Rejected)
    assert second.code is RejectionCode.TRANSACTION_ID_DUPLICATE


def test_a_void_of_a_posting_of_the_same_batch_reverses_it() -> None:
    """A hold and its release in one batch: the release finds the hold and marks it voided."""
    hold_id = uuid4()
    _fund, hold, release = decide_batch(
        _ledger(), [_deposit("50.00"), _hold("20.00", hold_id), VoidTransaction(void_of=hold_id)],
        NOW)
    assert isinstance(hold, Posted) and isinstance(release, Posted)
    assert release.voided is not None
    assert release.voided.voided_by == release.transaction.transaction_id
    assert [e.units for e in release.entries] == [-e.units for e in hold.entries]


class _Recording(MemoryLedger):
    """A MemoryLedger that keeps what it was asked to prefetch."""

    def __init__(self) -> None:
        super().__init__()
        self.prefetched: list[tuple[list[UUID], list[BalanceKey]]] = []

    def prefetch(self, transaction_ids: Sequence[UUID],
                 balance_keys: Sequence[BalanceKey]) -> None:
        self.prefetched.append((list(transaction_ids), list(balance_keys)))


def test_the_batch_prefetches_its_ids_then_its_balances_in_two_reads() -> None:
    """Every id and void target is read ahead in one call, every touched balance in one more."""
    ledger = _Recording()
    card_lifecycle.install(ledger)
    commands: list[Command] = [_deposit("9.00"), _hold("3.00"),
                               VoidTransaction(void_of=UUID(int=7))]
    decide_batch(ledger, commands, NOW)
    (ids, none), (nothing, balances) = ledger.prefetched
    assert ids == [c.transaction_id for c in commands] + [UUID(int=7)]
    assert none == [] and nothing == []
    accounts = {str(account) for account, _journal, _currency in balances}
    assert CUSTOMER in accounts and len(balances) == 4


_OPS = st.lists(st.tuples(st.sampled_from(["deposit", "hold", "void", "repeat"]),
                          st.integers(min_value=1, max_value=90)), min_size=1, max_size=12)


def _commands(ops: list[tuple[str, int]]) -> list[Command]:
    commands: list[Command] = []
    for kind, amount in ops:
        if kind == "deposit":
            commands.append(_deposit(f"{amount}.00"))
        elif kind == "hold":
            commands.append(_hold(f"{amount}.00"))
        elif kind == "void" and commands:
            commands.append(VoidTransaction(void_of=commands[amount % len(commands)]
                                            .transaction_id))
        elif commands:
            commands.append(commands[amount % len(commands)])
    return commands


@settings(max_examples=200, deadline=None)
@given(_OPS, st.integers(min_value=1, max_value=5))
def test_deciding_in_batches_equals_deciding_one_at_a_time(ops: list[tuple[str, int]],
                                                           size: int) -> None:
    """Any split of a command stream into batches gives the decisions, balances and
    postings of deciding it one command at a time."""
    commands = _commands(ops)
    one_by_one, batched = _ledger(), _ledger()
    expected = [one_by_one.post(command, NOW) for command in commands]
    decided = [d for start in range(0, len(commands), size)
               for d in batched.post_batch(commands[start:start + size], NOW)]
    assert decided == expected
    assert batched.balances == one_by_one.balances
    assert batched.transactions == one_by_one.transactions


def test_apply_is_a_batch_of_one(now: datetime) -> None:
    """The single-command entry point answers what a batch of that one command answers."""
    command = _deposit("2.50", UUID(int=11))
    assert apply(_ledger(), command, now) == decide_batch(_ledger(), [command], now)[0]
