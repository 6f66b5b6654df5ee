"""The read-only view of ledger state that ``apply`` decides against.

The runtime implements it over RocksDB and the catalog; ``MemoryLedger`` implements it in
memory for tests, benchmarks and audit replay.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol
from uuid import UUID

from ledger_core.account_sets import AccountSet
from ledger_core.accounts import Account
from ledger_core.balances import Balance
from ledger_core.journals import Journal
from ledger_core.limits import VelocityLimit
from ledger_core.tran_codes import TranCode
from ledger_core.transactions import PostedTransaction

__all__ = ["BalanceKey", "LedgerView"]

# (account id, journal id, currency): the key of one balance.
BalanceKey = tuple[UUID, UUID, str]


class LedgerView(Protocol):
    """Everything a decision may read; implementations must not change during ``apply``."""

    def journal(self, journal_id: UUID) -> Journal | None:
        """The journal with this id, or None."""
        ...

    def account(self, account_id: UUID) -> Account | None:
        """The account with this id, or None."""
        ...

    def account_set(self, account_set_id: UUID) -> AccountSet | None:
        """The account set with this id, or None."""
        ...

    def parent_sets(self, account_id: UUID, journal_id: UUID) -> tuple[UUID, ...]:
        """The sets an entry of ``journal_id`` on ``account_id`` rolls up into, sorted."""
        ...

    def tran_code(self, code: str, version: int | None) -> TranCode | None:
        """The tran code ``code`` at ``version``, or its latest version when None."""
        ...

    def limits_for(self, account_id: UUID) -> Sequence[VelocityLimit]:
        """Every velocity limit attached to the account."""
        ...

    def balance(self, account_id: UUID, journal_id: UUID, currency: str) -> Balance | None:
        """The current balance, or None if no entry has touched it."""
        ...

    def posted(self, transaction_id: UUID) -> PostedTransaction | None:
        """The posted transaction with its entries, or None."""
        ...

    def owns(self, account_id: UUID) -> bool:
        """True when this partition owns the account's (or the set's) balances."""
        ...

    def prefetch(self, transaction_ids: Sequence[UUID],
                 balance_keys: Sequence[BalanceKey]) -> None:
        """A hint that these will be read next, so a store can read them in one go; a view
        held in memory ignores it."""
        ...
