"""Posted records: transactions and their entries, immutable once written.

An entry's id is derived from its transaction id and sequence, so re-deciding the same
command always names the same entries and a duplicate can be recognised anywhere.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from hashlib import sha1
from typing import Any
from uuid import UUID

from ledger_core.base import Record
from ledger_core.enums import Direction, Layer

__all__ = ["Entry", "PostedTransaction", "Transaction", "entry_id_for"]


def entry_id_for(transaction_id: UUID, sequence: int) -> UUID:
    """Return the deterministic id of the entry at ``sequence`` of ``transaction_id``.

    It is ``uuid5(transaction_id, str(sequence))``, computed without uuid5's overhead.
    """
    digest = sha1(transaction_id.bytes + str(sequence).encode(), usedforsecurity=False).digest()
    return UUID(bytes=digest[:16], version=5)


class Transaction(Record, frozen=True, kw_only=True):
    """A posted transaction. ``entry_count`` lets a reader prove it has seen every leg."""

    transaction_id: UUID
    tran_code_id: UUID
    tran_code: str
    tran_code_version: int
    journal_id: UUID
    correlation_id: str
    external_id: str | None = None
    effective: date
    created: datetime
    description: str | None = None
    metadata: dict[str, Any] | None = None
    entry_count: int
    void_of: UUID | None = None
    voided_by: UUID | None = None


class Entry(Record, frozen=True, kw_only=True):
    """One signed leg of a transaction on one account, layer and currency."""

    entry_id: UUID
    transaction_id: UUID
    journal_id: UUID
    account_id: UUID
    sequence: int
    units: Decimal
    currency: str
    direction: Direction
    entry_type: str
    layer: Layer
    description: str | None = None
    metadata: dict[str, Any] | None = None
    effective: date
    created: datetime
    # The account sets the entry rolls up into, as membership stood when it was posted.
    parent_account_ids: tuple[UUID, ...] = ()


class PostedTransaction(Record, frozen=True, kw_only=True):
    """A transaction with all of its entries in sequence order, as the state view returns it."""

    transaction: Transaction
    entries: tuple[Entry, ...]

    @property
    def voided_by(self) -> UUID | None:
        """The id of the void that reversed this transaction, if any."""
        return self.transaction.voided_by
