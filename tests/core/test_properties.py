"""Property tests over random tran codes and postings: the invariants a bank relies on."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger_core import (
    Account,
    Balance,
    Direction,
    Layer,
    MemoryLedger,
    Posted,
    PostedTransaction,
    PostTransaction,
    TranCode,
    VelocityLimit,
    VoidTransaction,
    fold_entry,
)
from ledger_core.balances import with_normal_balance_type

NOW = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)

CUSTOMERS = [
    Account(account_id=UUID(int=0xC1), code="CUSTOMER.1", name="Customer 1"),
    Account(account_id=UUID(int=0xC2), code="CUSTOMER.2", name="Customer 2"),
]
HOUSE = Account(
    account_id=UUID(int=0xA1), code="HOUSE", name="House", normal_balance_type=Direction.DEBIT
)
FEES = Account(account_id=UUID(int=0xF1), code="FEES", name="Fee income")
ACCOUNTS = [*CUSTOMERS, HOUSE, FEES]
LIMITS = [VelocityLimit.no_overdraft(a.account_id, layer=Layer.PENDING) for a in CUSTOMERS]

# The CEL shapes random tran codes are assembled from; the conformance test runs them all.
ACCOUNT_EXPRESSIONS = [f"uuid('{a.account_id}')" for a in ACCOUNTS] + [
    "params.account", "uuid(params.other)",
]  # fmt: skip
UNITS_EXPRESSIONS = [
    "params.amount",
    "decimal(params.amount) * decimal('2')",
    "decimal(params.amount) + decimal('0.5')",
    "'1.25'",
    "params.flag ? params.amount : decimal('0')",
]
CURRENCY_EXPRESSIONS = ["'USD'", "'JPY'", "'BHD'", "params.currency"]
CONDITION_EXPRESSIONS = [None, "params.flag", "!params.flag", "params.amount > decimal('5')"]
LAYER_EXPRESSIONS = [None, "SETTLED", "PENDING", "ENCUMBRANCE", "params.flag ? PENDING : SETTLED"]


def _tran_code_input(index: int, entries: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "tranCodeId": str(UUID(int=0x7C00 + index)),
        "code": f"RANDOM_{index}",
        "params": [
            {"name": "account", "type": "UUID"},
            {"name": "other", "type": "STRING", "default": f"'{HOUSE.account_id}'"},
            {"name": "amount", "type": "DECIMAL"},
            {"name": "currency", "type": "STRING", "default": "'USD'"},
            {"name": "flag", "type": "BOOLEAN", "default": "false"},
        ],
        "entries": entries,
    }


@st.composite
def _entry(draw: st.DrawFn) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "accountId": draw(st.sampled_from(ACCOUNT_EXPRESSIONS)),
        "units": draw(st.sampled_from(UNITS_EXPRESSIONS)),
        "currency": draw(st.sampled_from(CURRENCY_EXPRESSIONS)),
        "direction": draw(st.sampled_from(["DEBIT", "CREDIT"])),
    }
    layer = draw(st.sampled_from(LAYER_EXPRESSIONS))
    if layer is not None:
        entry["layer"] = layer
    condition = draw(st.sampled_from(CONDITION_EXPRESSIONS))
    if condition is not None:
        entry["condition"] = condition
    return entry


@st.composite
def _balanced_pair(draw: st.DrawFn) -> list[dict[str, Any]]:
    # Mirror legs: same units, currency, layer and condition, opposite directions, so most
    # generated tran codes balance and postings get through to the balance invariants.
    first = draw(_entry())
    second = dict(first)
    second["accountId"] = draw(st.sampled_from(ACCOUNT_EXPRESSIONS))
    second["direction"] = "CREDIT" if first["direction"] == "DEBIT" else "DEBIT"
    return [first, second]


@st.composite
def _tran_codes(draw: st.DrawFn) -> list[TranCode]:
    count = draw(st.integers(min_value=1, max_value=3))
    codes = []
    for index in range(count):
        pairs = draw(st.lists(_balanced_pair(), min_size=1, max_size=2))
        entries = [leg for pair in pairs for leg in pair]
        if draw(st.booleans()) and draw(st.booleans()):
            entries.append(draw(_entry()))  # an odd leg: usually unbalanced
        codes.append(TranCode.model_validate(_tran_code_input(index, entries)))
    return codes


_AMOUNTS = st.builds(
    lambda whole, fraction, places: f"{whole}.{fraction:0{places}d}" if places else str(whole),
    st.integers(min_value=0, max_value=200),
    st.integers(min_value=0, max_value=99),
    st.sampled_from([0, 2, 2, 2, 3]),
)

_POST = st.fixed_dictionaries(
    {
        "kind": st.just("post"),
        "code": st.integers(min_value=0, max_value=2),
        "account": st.sampled_from([str(a.account_id) for a in ACCOUNTS]),
        "amount": _AMOUNTS,
        "currency": st.sampled_from(["USD", "JPY", "BHD"]),
        "flag": st.booleans(),
    }
)
_VOID = st.fixed_dictionaries({"kind": st.just("void"), "target": st.integers(0, 30)})
_OPERATIONS = st.lists(st.one_of(_POST, _POST, _VOID), min_size=1, max_size=25)


def _ledger(codes: list[TranCode]) -> MemoryLedger:
    ledger = MemoryLedger()
    for account in ACCOUNTS:
        ledger.add_account(account)
    for code in codes:
        ledger.add_tran_code(code)
    for limit in LIMITS:
        ledger.add_limit(limit)
    return ledger


def _command(
    operation: dict[str, Any], index: int, codes: list[TranCode], posted: list[UUID]
) -> PostTransaction | VoidTransaction:
    if operation["kind"] == "void" and posted:
        return VoidTransaction(void_of=posted[operation["target"] % len(posted)])
    if operation["kind"] == "void":
        return VoidTransaction(void_of=UUID(int=index + 1))
    code = codes[operation["code"] % len(codes)]
    return PostTransaction(
        transaction_id=UUID(int=0x10_0000 + index),
        tran_code=code.code,
        params={k: operation[k] for k in ("account", "amount", "currency", "flag")},
    )


def _replay(ledger: MemoryLedger) -> dict[tuple[UUID, UUID, str], Balance]:
    replayed: dict[tuple[UUID, UUID, str], Balance] = {}
    for entry in ledger.entries_log:
        key = (entry.account_id, entry.journal_id, entry.currency)
        account = ledger.accounts[entry.account_id]
        replayed[key] = fold_entry(replayed.get(key), entry, account.normal_balance_type)
    return replayed


def _amounts(balance: Balance | None) -> tuple[Decimal, ...]:
    if balance is None:
        return (Decimal(0),) * 6
    return tuple(
        value
        for part in (balance.settled, balance.pending, balance.encumbrance)
        for value in (part.dr, part.cr)
    )


def _run(
    codes: list[TranCode], operations: list[dict[str, Any]]
) -> tuple[MemoryLedger, list[tuple[dict[Any, Balance], Posted]]]:
    ledger = _ledger(codes)
    posted: list[UUID] = []
    history: list[tuple[dict[Any, Balance], Posted]] = []
    for index, operation in enumerate(operations):
        before = dict(ledger.balances)
        decision = ledger.post(_command(operation, index, codes, posted), NOW)
        if isinstance(decision, Posted):
            posted.append(decision.transaction.transaction_id)
            history.append((before, decision))
            _check_no_overdraft(ledger)
    return ledger, history


def _check_no_overdraft(ledger: MemoryLedger) -> None:
    for (account_id, _, currency), balance in ledger.balances.items():
        if account_id in {c.account_id for c in CUSTOMERS}:
            available = balance.available(Layer.PENDING).normal_balance
            assert available >= 0, (account_id, currency, available)


_SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(_tran_codes(), _OPERATIONS)
def test_every_posted_transaction_balances_per_currency(
    codes: list[TranCode], operations: list[dict[str, Any]]
) -> None:
    """Whatever the tran code, an accepted transaction's debits equal its credits per currency."""
    _, history = _run(codes, operations)
    for _, decision in history:
        totals: dict[str, Decimal] = defaultdict(Decimal)
        for entry in decision.entries:
            sign = 1 if entry.direction is Direction.DEBIT else -1
            totals[entry.currency] += sign * entry.units
        assert all(total == 0 for total in totals.values()), totals
        assert [e.sequence for e in decision.entries] == list(range(1, len(decision.entries) + 1))
        assert decision.transaction.entry_count == len(decision.entries)


@_SETTINGS
@given(_tran_codes(), _OPERATIONS)
def test_balances_equal_the_fold_of_all_entries(
    codes: list[TranCode], operations: list[dict[str, Any]]
) -> None:
    """Replaying the entries log through fold_entry rebuilds every balance exactly."""
    ledger, _ = _run(codes, operations)
    assert _replay(ledger) == ledger.balances


@_SETTINGS
@given(_tran_codes(), _OPERATIONS)
def test_entries_folded_in_reverse_as_credit_normal_then_rebased_give_every_balance(
    codes: list[TranCode], operations: list[dict[str, Any]]
) -> None:
    """How the API's read model folds: entries in another order than the ledger's, and as
    credit-normal while an account is unknown; rebased to the account's type, every layer
    and version is the ledger's."""
    ledger, _ = _run(codes, operations)
    folded: dict[Any, Balance] = {}
    for entry in reversed(ledger.entries_log):
        key = (entry.account_id, entry.journal_id, entry.currency)
        folded[key] = fold_entry(folded.get(key), entry, Direction.CREDIT)
    assert folded.keys() == ledger.balances.keys()
    for key, balance in folded.items():
        rebased = with_normal_balance_type(balance, ledger.accounts[key[0]].normal_balance_type)
        expected = ledger.balances[key]
        assert (rebased.settled, rebased.pending, rebased.encumbrance, rebased.version,
                rebased.normal_balance_type) == (
            expected.settled, expected.pending, expected.encumbrance, expected.version,
            expected.normal_balance_type)


@_SETTINGS
@given(_tran_codes(), _OPERATIONS)
def test_a_void_restores_the_balances_before_the_voided_transaction(
    codes: list[TranCode], operations: list[dict[str, Any]]
) -> None:
    """Posting then voiding at once leaves every amount as it was before the posting."""
    _, history = _run(codes, operations)
    for before, decision in history:
        if decision.transaction.void_of is not None:
            continue
        trial = _ledger(codes)
        trial.balances = dict(before)
        trial.balances.update(
            {(b.account_id, b.journal_id, b.currency): b for b in decision.balances}
        )
        trial.transactions = {decision.transaction.transaction_id: _as_posted(decision)}
        void = trial.post(VoidTransaction(void_of=decision.transaction.transaction_id), NOW)
        if not isinstance(void, Posted):
            continue  # refused by a limit: nothing to compare (checked elsewhere)
        for balance in decision.balances:
            key = (balance.account_id, balance.journal_id, balance.currency)
            assert _amounts(trial.balances.get(key)) == _amounts(before.get(key))


def _as_posted(decision: Posted) -> PostedTransaction:
    return PostedTransaction(transaction=decision.transaction, entries=decision.entries)


@_SETTINGS
@given(_tran_codes(), _OPERATIONS, st.randoms(use_true_random=False))
def test_a_reject_limit_is_never_crossed_whatever_the_order(
    codes: list[TranCode], operations: list[dict[str, Any]], shuffler: Any
) -> None:
    """In any order of the same postings, no customer's available(PENDING) goes below zero."""
    shuffled = list(operations)
    shuffler.shuffle(shuffled)
    for order in (operations, shuffled):
        ledger, _ = _run(codes, order)
        _check_no_overdraft(ledger)
