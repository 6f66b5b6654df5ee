"""The card lifecycle: hold on PENDING, release by void, settle on SETTLED."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from ledger_core import (
    DEFAULT_JOURNAL_ID,
    Balance,
    Layer,
    MemoryLedger,
    Posted,
    PostTransaction,
    card_lifecycle,
)


def _customer(ledger: MemoryLedger) -> Balance:
    balance = ledger.balance(card_lifecycle.CUSTOMER.account_id, DEFAULT_JOURNAL_ID, "USD")
    assert balance is not None
    return balance


def _available(balance: Balance) -> tuple[Decimal, Decimal]:
    return (
        balance.available(Layer.SETTLED).normal_balance,
        balance.available(Layer.PENDING).normal_balance,
    )


def test_hold_release_settle(card_ledger: MemoryLedger, now: datetime) -> None:
    """Each step moves available(SETTLED) and available(PENDING) exactly as a bank expects."""
    assert isinstance(card_ledger.post(card_lifecycle.FUND, now), Posted)
    funded = _customer(card_ledger)
    assert _available(funded) == (Decimal("100.00"), Decimal("100.00"))

    hold = card_ledger.post(card_lifecycle.HOLD, now)
    assert isinstance(hold, Posted)
    held = _customer(card_ledger)
    assert _available(held) == (Decimal("100.00"), Decimal("50.00"))
    assert (held.pending.dr, held.pending.cr) == (Decimal("50.00"), Decimal(0))
    assert held.settled.normal_balance == Decimal("100.00")

    release = card_ledger.post(card_lifecycle.RELEASE, now)
    assert isinstance(release, Posted)
    released = _customer(card_ledger)
    assert _available(released) == (Decimal("100.00"), Decimal("100.00"))
    assert released.pending.normal_balance == 0
    assert released.pending.dr == 0

    settle = card_ledger.post(card_lifecycle.SETTLE, now)
    assert isinstance(settle, Posted)
    settled = _customer(card_ledger)
    assert _available(settled) == (Decimal("50.00"), Decimal("50.00"))
    assert (settled.settled.dr, settled.settled.cr) == (Decimal("50.00"), Decimal("100.00"))
    assert settled.pending.normal_balance == 0

    correlation = str(card_lifecycle.HOLD.transaction_id)
    assert hold.transaction.correlation_id == correlation
    assert release.transaction.correlation_id == correlation
    assert settle.transaction.correlation_id == correlation


def test_release_links_void_and_original(card_ledger: MemoryLedger, now: datetime) -> None:
    """The release is a void of the hold: voidOf on the void, voidedBy on the hold."""
    card_ledger.post(card_lifecycle.FUND, now)
    card_ledger.post(card_lifecycle.HOLD, now)
    release = card_ledger.post(card_lifecycle.RELEASE, now)
    assert isinstance(release, Posted)
    hold_id = card_lifecycle.HOLD.transaction_id
    assert release.transaction.void_of == hold_id
    assert release.voided is not None
    assert release.voided.voided_by == release.transaction.transaction_id
    stored = card_ledger.posted(hold_id)
    assert stored is not None
    assert stored.voided_by == release.transaction.transaction_id
    assert [e.units for e in release.entries] == [Decimal("-50.00"), Decimal("-50.00")]
    assert [e.layer for e in release.entries] == [Layer.PENDING, Layer.PENDING]


def test_settlement_account_mirrors_customer(card_ledger: MemoryLedger, now: datetime) -> None:
    """The settlement account ends owing the network exactly the settled purchase."""
    for command in (
        card_lifecycle.FUND, card_lifecycle.HOLD, card_lifecycle.RELEASE, card_lifecycle.SETTLE,
    ):  # fmt: skip
        assert isinstance(card_ledger.post(command, now), Posted)
    settlement = card_ledger.balance(
        card_lifecycle.SETTLEMENT.account_id, DEFAULT_JOURNAL_ID, "USD"
    )
    assert settlement is not None
    assert settlement.settled.normal_balance == Decimal("50.00")
    assert settlement.pending.normal_balance == 0


def _card_post(transaction: str, tran_code: str, **params: str) -> PostTransaction:
    return PostTransaction.model_validate({
        "transactionId": transaction, "tranCode": tran_code,
        "params": {"account": str(card_lifecycle.CUSTOMER.account_id),
                   "correlationId": str(card_lifecycle.HOLD.transaction_id), **params}})


def test_a_partial_release_then_a_clearing_above_it(card_ledger: MemoryLedger,
                                                     now: datetime) -> None:
    """CARD_RELEASE frees part of a hold; CARD_SETTLE releases the rest and settles a larger
    amount in the same transaction, so no reader sees the purchase both held and settled."""
    card_ledger.post(card_lifecycle.FUND, now)
    card_ledger.post(card_lifecycle.HOLD, now)
    release = card_ledger.post(_card_post("c0ffee00-0000-4000-8000-0000000000a1",
                                          "CARD_RELEASE", amount="20.00"), now)
    assert isinstance(release, Posted)
    assert _available(_customer(card_ledger)) == (Decimal("100.00"), Decimal("70.00"))
    settle = card_ledger.post(_card_post("c0ffee00-0000-4000-8000-0000000000a2", "CARD_SETTLE",
                                         amount="35.00", release="30.00"), now)
    assert isinstance(settle, Posted)
    settled = _customer(card_ledger)
    assert _available(settled) == (Decimal("65.00"), Decimal("65.00"))
    assert settled.pending.normal_balance == 0
    assert [(e.layer, e.units) for e in settle.entries] == [
        (Layer.PENDING, Decimal("30.00")), (Layer.PENDING, Decimal("30.00")),
        (Layer.SETTLED, Decimal("35.00")), (Layer.SETTLED, Decimal("35.00"))]


def test_a_force_post_settles_without_a_release(card_ledger: MemoryLedger,
                                                now: datetime) -> None:
    """A clearing with nothing held (release 0) writes only the SETTLED legs."""
    card_ledger.post(card_lifecycle.FUND, now)
    settle = card_ledger.post(_card_post("c0ffee00-0000-4000-8000-0000000000a3", "CARD_SETTLE",
                                         amount="12.00"), now)
    assert isinstance(settle, Posted)
    assert [e.layer for e in settle.entries] == [Layer.SETTLED, Layer.SETTLED]
    assert _available(_customer(card_ledger)) == (Decimal("88.00"), Decimal("88.00"))
