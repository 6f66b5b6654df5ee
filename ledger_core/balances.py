"""Balances: one record per (account, journal, currency), folded from entries on write.

Each layer keeps debit and credit totals; the normal balance is credits minus debits for a
credit-normal account and debits minus credits for a debit-normal one. ``available(layer)``
is cumulative: SETTLED, then SETTLED+PENDING, then all three. A balance is always exactly
the fold of its entries, in order, through ``fold_entry``; its version counts the entries.
An account set's balance is the same fold of the entries that name it as a parent
(``fold_into_set``); its ``account_id`` is the set's id.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

import msgspec

from ledger_core.base import Record
from ledger_core.enums import Direction, Layer
from ledger_core.money import MONEY_CONTEXT
from ledger_core.transactions import Entry

__all__ = ["Balance", "LayerBalance", "fold_entry", "fold_into_set", "normal_delta",
           "with_normal_balance_type"]

_ZERO = Decimal(0)


class LayerBalance(Record, frozen=True, kw_only=True):
    """Debit and credit totals of one layer, and the normal balance derived from them."""

    dr: Decimal = _ZERO
    cr: Decimal = _ZERO
    normal_balance: Decimal = _ZERO


_EMPTY_LAYER = LayerBalance(dr=_ZERO, cr=_ZERO, normal_balance=_ZERO)


def _layer(dr: Decimal, cr: Decimal, normal_balance_type: Direction) -> LayerBalance:
    if normal_balance_type is Direction.CREDIT:
        normal = MONEY_CONTEXT.subtract(cr, dr)
    else:
        normal = MONEY_CONTEXT.subtract(dr, cr)
    return LayerBalance(dr=dr, cr=cr, normal_balance=normal)


class Balance(Record, frozen=True, kw_only=True):
    """The balance of one account in one journal and currency, at ``version`` entries."""

    account_id: UUID
    journal_id: UUID
    currency: str
    normal_balance_type: Direction
    settled: LayerBalance = _EMPTY_LAYER
    pending: LayerBalance = _EMPTY_LAYER
    encumbrance: LayerBalance = _EMPTY_LAYER
    version: int = 0
    entry_id: UUID | None = None
    transaction_id: UUID | None = None
    created: datetime | None = None
    modified: datetime | None = None

    def layer(self, layer: Layer) -> LayerBalance:
        """Return the totals of ``layer`` alone."""
        if layer is Layer.SETTLED:
            return self.settled
        if layer is Layer.PENDING:
            return self.pending
        return self.encumbrance

    def available(self, layer: Layer) -> LayerBalance:
        """Return ``layer`` summed with every layer before it (SETTLED, then PENDING, ...)."""
        if layer is Layer.SETTLED:
            return self.settled
        parts = [self.settled, self.pending]
        if layer is Layer.ENCUMBRANCE:
            parts.append(self.encumbrance)
        dr = _ZERO
        cr = _ZERO
        for part in parts:
            dr = MONEY_CONTEXT.add(dr, part.dr)
            cr = MONEY_CONTEXT.add(cr, part.cr)
        return _layer(dr, cr, self.normal_balance_type)


def normal_delta(entry: Entry, normal_balance_type: Direction) -> Decimal:
    """Return how much ``entry`` moves the normal balance of an account of that type."""
    if entry.direction is normal_balance_type:
        return entry.units
    return -entry.units


def fold_entry(balance: Balance | None, entry: Entry, normal_balance_type: Direction) -> Balance:
    """Return ``balance`` with ``entry`` applied; ``None`` stands for the empty balance.

    Pure and total: it performs no check, because an entry reaches the fold only once its
    transaction has been accepted. Replaying every entry through it rebuilds every balance.
    """
    return _fold(balance, entry.account_id, entry, normal_balance_type)


def fold_into_set(balance: Balance | None, account_set_id: UUID, entry: Entry,
                  normal_balance_type: Direction) -> Balance:
    """Return the balance of set ``account_set_id`` with ``entry`` rolled up into it: the
    same fold, onto the set's balance, for an entry that names the set as a parent."""
    assert account_set_id in entry.parent_account_ids, "entry rolled up into a set it is not in"
    return _fold(balance, account_set_id, entry, normal_balance_type)


def _fold(balance: Balance | None, owner_id: UUID, entry: Entry,
          normal_balance_type: Direction) -> Balance:
    created: datetime | None
    if balance is None:
        settled = pending = encumbrance = _EMPTY_LAYER
        version = 0
        created = entry.created
    else:
        assert balance.account_id == owner_id, "entry folded onto another account"
        assert balance.currency == entry.currency, "entry folded onto another currency"
        settled, pending, encumbrance = balance.settled, balance.pending, balance.encumbrance
        version = balance.version
        created = balance.created
    part = {Layer.SETTLED: settled, Layer.PENDING: pending, Layer.ENCUMBRANCE: encumbrance}[
        entry.layer
    ]
    if entry.direction is Direction.DEBIT:
        updated = _layer(MONEY_CONTEXT.add(part.dr, entry.units), part.cr, normal_balance_type)
    else:
        updated = _layer(part.dr, MONEY_CONTEXT.add(part.cr, entry.units), normal_balance_type)
    if entry.layer is Layer.SETTLED:
        settled = updated
    elif entry.layer is Layer.PENDING:
        pending = updated
    else:
        encumbrance = updated
    return Balance(
        account_id=owner_id,
        journal_id=entry.journal_id,
        currency=entry.currency,
        normal_balance_type=normal_balance_type,
        settled=settled,
        pending=pending,
        encumbrance=encumbrance,
        version=version + 1,
        entry_id=entry.entry_id,
        transaction_id=entry.transaction_id,
        created=created,
        modified=entry.created,
    )


def with_normal_balance_type(balance: Balance, normal_balance_type: Direction) -> Balance:
    """Return ``balance`` as an account of ``normal_balance_type`` holds it: the same debit
    and credit totals, each layer's normal balance taken from the other side."""
    if balance.normal_balance_type is normal_balance_type:
        return balance
    settled, pending, encumbrance = (
        _layer(part.dr, part.cr, normal_balance_type)
        for part in (balance.settled, balance.pending, balance.encumbrance))
    return msgspec.structs.replace(balance, normal_balance_type=normal_balance_type,
                                   settled=settled, pending=pending, encumbrance=encumbrance)
