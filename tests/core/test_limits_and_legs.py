"""Velocity limits, voids under limits, legs on remote partitions, and multi-currency."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

import pytest

from ledger_core import (
    DEFAULT_JOURNAL_ID,
    Account,
    Enforcement,
    Layer,
    MemoryLedger,
    Posted,
    PostTransaction,
    Rejected,
    RejectionCode,
    TranCode,
    VelocityLimit,
    VoidTransaction,
    apply,
    card_lifecycle,
    tutorial,
)

ERNIE = tutorial.ERNIE.account_id
J = tutorial.JOURNAL_ID

DEBITS_ONLY = VelocityLimit(
    limit_id=UUID(int=0x11),
    account_id=ERNIE,
    layer=Layer.SETTLED,
    min_available=Decimal(0),
    condition="transaction.tranCode == 'ACH_DEBIT' && !transaction.isVoid",
)
NOT_GOLD = VelocityLimit(
    limit_id=UUID(int=0x12),
    account_id=ERNIE,
    layer=Layer.SETTLED,
    min_available=Decimal(0),
    condition="account.metadata.tier != 'gold'",
)
CAP = VelocityLimit(
    limit_id=UUID(int=0x13), account_id=ERNIE, layer=Layer.SETTLED,
    max_available=Decimal("10.00"), currency="USD", enforcement=Enforcement.WARN,
)  # fmt: skip
LIMIT_EXPRESSIONS = [DEBITS_ONLY.condition, NOT_GOLD.condition]


def _post(
    ledger: MemoryLedger, command: PostTransaction | VoidTransaction, now: datetime
) -> Posted:
    decision = ledger.post(command, now)
    assert isinstance(decision, Posted), decision
    return decision


def _withdraw(amount: str, n: int) -> PostTransaction:
    return tutorial.WITHDRAWAL.model_copy(
        update={"transaction_id": UUID(int=n),
                "params": {**tutorial.WITHDRAWAL.params, "amount": amount}}
    )  # fmt: skip


def _deposit(amount: str, n: int) -> PostTransaction:
    return tutorial.DEPOSIT.model_copy(
        update={"transaction_id": UUID(int=n),
                "params": {**tutorial.DEPOSIT.params, "amount": amount}}
    )  # fmt: skip


def test_no_overdraft_is_one_line() -> None:
    """VelocityLimit.no_overdraft builds a REJECT floor of zero on available(PENDING)."""
    limit = VelocityLimit.no_overdraft(ERNIE)
    assert (limit.layer, limit.min_available, limit.max_available, limit.enforcement) == (
        Layer.PENDING, Decimal(0), None, Enforcement.REJECT,
    )  # fmt: skip


def test_limit_bounds_are_validated() -> None:
    """A limit with no bound, or a floor above its ceiling, is not a valid limit."""
    with pytest.raises(ValueError, match="needs"):
        VelocityLimit(limit_id=UUID(int=1), account_id=ERNIE, layer=Layer.SETTLED)
    with pytest.raises(ValueError, match="above"):
        VelocityLimit(limit_id=UUID(int=1), account_id=ERNIE, layer=Layer.SETTLED,
                      min_available=Decimal(5), max_available=Decimal(1))  # fmt: skip


def test_deposit_into_an_overdrawn_account_is_accepted(
    tutorial_ledger: MemoryLedger, now: datetime
) -> None:
    """A limit never stops a posting that moves the balance back towards its bound."""
    _post(tutorial_ledger, _withdraw("20.00", 1), now)
    tutorial_ledger.add_limit(VelocityLimit.no_overdraft(ERNIE, layer=Layer.SETTLED))
    _post(tutorial_ledger, _deposit("5.00", 2), now)
    refused = apply(tutorial_ledger, _withdraw("0.01", 3), now)
    assert isinstance(refused, Rejected)
    assert refused.code is RejectionCode.VELOCITY_LIMIT_EXCEEDED


def test_condition_selects_when_a_limit_applies(
    tutorial_ledger: MemoryLedger, now: datetime
) -> None:
    """A limit whose CEL condition is false for a posting does not constrain it."""
    tutorial_ledger.add_limit(DEBITS_ONLY)
    _post(tutorial_ledger, _deposit("5.00", 1), now)
    assert isinstance(apply(tutorial_ledger, _withdraw("6.00", 2), now), Rejected)
    _post(tutorial_ledger, VoidTransaction(void_of=UUID(int=1)), now)  # a void is exempt here


def test_condition_reads_account_metadata(tutorial_ledger: MemoryLedger, now: datetime) -> None:
    """A condition on account metadata exempts gold-tier accounts from the floor."""
    tutorial_ledger.add_limit(NOT_GOLD)
    assert isinstance(apply(tutorial_ledger, _withdraw("1.00", 1), now), Rejected)
    tutorial_ledger.add_account(tutorial.ERNIE.model_copy(update={"metadata": {"tier": "gold"}}))
    _post(tutorial_ledger, _withdraw("1.00", 1), now)


def test_warn_limit_posts_with_a_warning(tutorial_ledger: MemoryLedger, now: datetime) -> None:
    """A WARN ceiling lets the posting through and reports the breach."""
    tutorial_ledger.add_limit(CAP)
    posted = _post(tutorial_ledger, _deposit("12.00", 1), now)
    (warning,) = posted.warnings
    assert "above the maximum 10.00" in warning.message
    assert not _post(tutorial_ledger, _withdraw("1.00", 2), now).warnings


def test_limit_is_scoped_to_its_currency_and_journal(now: datetime) -> None:
    """A limit for another currency or journal does not constrain the posting."""
    ledger = MemoryLedger()
    tutorial.install(ledger)
    ledger.add_limit(VelocityLimit.no_overdraft(ERNIE, layer=Layer.SETTLED, currency="EUR"))
    ledger.add_limit(VelocityLimit.no_overdraft(ERNIE, layer=Layer.SETTLED,
                                                journal_id=DEFAULT_JOURNAL_ID))  # fmt: skip
    _post(ledger, _withdraw("1.00", 1), now)


def test_encumbrance_limit_counts_settled_postings(
    tutorial_ledger: MemoryLedger, now: datetime
) -> None:
    """available(ENCUMBRANCE) includes SETTLED, so a settled withdrawal trips that limit."""
    tutorial_ledger.add_limit(VelocityLimit.no_overdraft(ERNIE, layer=Layer.ENCUMBRANCE))
    decision = apply(tutorial_ledger, _withdraw("1.00", 1), now)
    assert isinstance(decision, Rejected)
    assert "available(ENCUMBRANCE)" in decision.message


def test_void_of_a_spent_deposit_is_refused_unless_overridden(
    tutorial_ledger: MemoryLedger, now: datetime
) -> None:
    """Reversing a deposit that was already spent would overdraw, so it needs an override."""
    tutorial_ledger.add_limit(VelocityLimit.no_overdraft(ERNIE, layer=Layer.SETTLED))
    _post(tutorial_ledger, _deposit("10.00", 1), now)
    _post(tutorial_ledger, _withdraw("8.00", 2), now)
    refused = apply(tutorial_ledger, VoidTransaction(void_of=UUID(int=1)), now)
    assert isinstance(refused, Rejected)
    assert refused.code is RejectionCode.VELOCITY_LIMIT_EXCEEDED
    forced = VoidTransaction(void_of=UUID(int=1), override_enforcement=Enforcement.WARN)
    assert _post(tutorial_ledger, forced, now).warnings


def test_release_of_a_hold_always_passes_the_limit(
    card_ledger: MemoryLedger, now: datetime
) -> None:
    """Voiding a hold raises available(PENDING), so no floor can refuse it."""
    _post(card_ledger, card_lifecycle.FUND, now)
    _post(card_ledger, card_lifecycle.HOLD, now)
    too_big = card_lifecycle.HOLD.model_copy(
        update={"transaction_id": UUID(int=5),
                "params": {**card_lifecycle.HOLD.params, "amount": "50.01"}}
    )  # fmt: skip
    refused = apply(card_ledger, too_big, now)
    assert isinstance(refused, Rejected)
    assert refused.code is RejectionCode.VELOCITY_LIMIT_EXCEEDED
    _post(card_ledger, card_lifecycle.RELEASE, now)


def test_remote_legs_converge_on_the_owning_partition(now: datetime) -> None:
    """Legs on accounts another partition owns are shipped and folded there, exactly."""
    assets = tutorial.ASSETS.account_id
    customers = MemoryLedger(owns=lambda account_id: account_id != assets)
    house = MemoryLedger(owns=lambda account_id: account_id == assets)
    for ledger in (customers, house):
        tutorial.install(ledger)
    customers.add_limit(VelocityLimit.no_overdraft(ERNIE, layer=Layer.SETTLED))
    for command in tutorial.POSTINGS:
        decision = _post(customers, command, now)
        assert [e.account_id for e in decision.remote_entries] == [assets]
        assert {b.account_id for b in decision.balances} == {ERNIE}
        house.commit_remote(decision.remote_entries)
    remote = house.balance(assets, J, "USD")
    assert remote is not None
    assert remote.settled.normal_balance == Decimal("5.25")
    assert remote.version == 2
    assert house.balance(ERNIE, J, "USD") is None


def test_crediting_a_remote_limited_account_is_allowed(now: datetime) -> None:
    """Moving a remote limited account away from its floor needs no atomic check."""
    ledger = MemoryLedger(owns=lambda account_id: account_id != ERNIE)
    tutorial.install(ledger)
    ledger.add_limit(VelocityLimit.no_overdraft(ERNIE, layer=Layer.SETTLED))
    decision = _post(ledger, tutorial.DEPOSIT, now)
    assert [e.account_id for e in decision.remote_entries] == [ERNIE]
    forced = tutorial.WITHDRAWAL.model_copy(update={"override_enforcement": Enforcement.WARN})
    _post(ledger, forced, now)


USD_CASH = Account(account_id=UUID(int=0xE1), code="CASH.USD", name="USD cash",
                   normal_balance_type="DEBIT")  # type: ignore[arg-type]  # fmt: skip
EUR_CASH = Account(account_id=UUID(int=0xE2), code="CASH.EUR", name="EUR cash",
                   normal_balance_type="DEBIT")  # type: ignore[arg-type]  # fmt: skip
FX_DESK = Account(account_id=UUID(int=0xE3), code="FX.DESK", name="FX desk")

FX = TranCode.model_validate(
    {
        "tranCodeId": "c3000000-0000-4000-8000-000000000001",
        "code": "FX",
        "params": [
            {"name": "usd", "type": "DECIMAL"},
            {"name": "eur", "type": "DECIMAL"},
            {"name": "eurOut", "type": "DECIMAL", "default": "params.eur"},
        ],
        "entries": [
            {"accountId": f"uuid('{FX_DESK.account_id}')", "units": "params.usd",
             "currency": "'USD'", "direction": "DEBIT"},
            {"accountId": f"uuid('{USD_CASH.account_id}')", "units": "params.usd",
             "currency": "'USD'", "direction": "CREDIT"},
            {"accountId": f"uuid('{EUR_CASH.account_id}')", "units": "params.eur",
             "currency": "'EUR'", "direction": "DEBIT"},
            {"accountId": f"uuid('{FX_DESK.account_id}')", "units": "params.eurOut",
             "currency": "'EUR'", "direction": "CREDIT"},
        ],
    }
)  # fmt: skip


def _fx_ledger() -> MemoryLedger:
    ledger = MemoryLedger()
    for account in (USD_CASH, EUR_CASH, FX_DESK):
        ledger.add_account(account)
    ledger.add_tran_code(FX)
    return ledger


def test_each_currency_balances_on_its_own(now: datetime) -> None:
    """A four-leg FX posting balances in USD and in EUR and keeps one balance per currency."""
    ledger = _fx_ledger()
    command = PostTransaction(transaction_id=UUID(int=1), tran_code="FX",
                              params={"usd": "110.00", "eur": "100.00"})  # fmt: skip
    _post(ledger, command, now)
    desk_usd = ledger.balance(FX_DESK.account_id, DEFAULT_JOURNAL_ID, "USD")
    desk_eur = ledger.balance(FX_DESK.account_id, DEFAULT_JOURNAL_ID, "EUR")
    assert desk_usd is not None
    assert desk_eur is not None
    assert (desk_usd.settled.normal_balance, desk_eur.settled.normal_balance) == (
        Decimal("-110.00"), Decimal("100.00"),
    )  # fmt: skip


def test_currencies_cannot_offset_each_other(now: datetime) -> None:
    """An imbalance in EUR is refused even when the grand total of units is zero."""
    ledger = _fx_ledger()
    params = {"usd": "100.00", "eur": "100.00", "eurOut": "99.00"}
    command = PostTransaction(transaction_id=UUID(int=1), tran_code="FX", params=params)
    decision = apply(ledger, command, now)
    assert isinstance(decision, Rejected)
    assert decision.code is RejectionCode.ENTRIES_MUST_BALANCE
    assert "EUR" in decision.message
