"""An in-memory ledger: a LedgerView plus the commit of decisions.

Used by tests, benchmarks and audit replay. ``owns`` lets several instances stand for the
partitions of one ledger that share a catalog, to exercise legs on remote accounts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from uuid import UUID

import msgspec

from ledger_core.accounts import Account
from ledger_core.balances import Balance
from ledger_core.batch import decide_batch
from ledger_core.catalog import Catalog
from ledger_core.commands import Command
from ledger_core.decisions import Decision, Posted, Rejected
from ledger_core.journals import Journal
from ledger_core.ledger import apply_remote_entries
from ledger_core.limits import VelocityLimit
from ledger_core.tran_codes import TranCode
from ledger_core.transactions import Entry, PostedTransaction
from ledger_core.views import BalanceKey

__all__ = ["MemoryLedger"]

class MemoryLedger(Catalog):
    """A catalog plus balances and posted transactions held in dicts; implements LedgerView."""

    def __init__(self, owns: Callable[[UUID], bool] | None = None) -> None:
        """Start with only the DEFAULT journal; ``owns`` defaults to owning every account."""
        super().__init__()
        self._owns = owns
        self.balances: dict[BalanceKey, Balance] = {}
        self.transactions: dict[UUID, PostedTransaction] = {}
        self.entries_log: list[Entry] = []

    # -- catalog (test set-up: refusals raise, where the runtime answers with a code) -----

    def add_journal(self, journal: Journal) -> None:
        """Create or replace a journal."""
        self.put(journal)

    def add_account(self, account: Account) -> None:
        """Create or replace an account; a code already used by another account is refused."""
        holder = self.account_codes.get(account.code)
        if holder is not None and holder != account.account_id:
            raise ValueError(f"account code {account.code!r} is already used by {holder}")
        self.put(account)

    def add_tran_code(self, tran_code: TranCode) -> None:
        """Store a tran code version; a version, once stored, cannot be redefined."""
        existing = self.tran_codes.get(tran_code.code, {}).get(tran_code.version)
        if existing is not None and existing.model_copy(update={"status": tran_code.status}) != (
            tran_code
        ):
            raise ValueError(f"tran code {tran_code.code} v{tran_code.version} already exists")
        self.put(tran_code)

    def add_limit(self, limit: VelocityLimit) -> None:
        """Attach a velocity limit (replacing one with the same id)."""
        self.put(limit)

    # -- LedgerView (the catalog's lookups come from Catalog) -------------------------------

    def balance(self, account_id: UUID, journal_id: UUID, currency: str) -> Balance | None:
        """The current balance, or None if never touched."""
        return self.balances.get((account_id, journal_id, currency))

    def posted(self, transaction_id: UUID) -> PostedTransaction | None:
        """The posted transaction with its entries, or None."""
        return self.transactions.get(transaction_id)

    def owns(self, account_id: UUID) -> bool:
        """True when this ledger keeps the account's balances."""
        return True if self._owns is None else self._owns(account_id)

    def prefetch(self, transaction_ids: Sequence[UUID],
                 balance_keys: Sequence[BalanceKey]) -> None:
        """Nothing to read ahead: everything is in memory."""

    # -- writing ----------------------------------------------------------------------------

    def commit(self, decision: Posted) -> None:
        """Write an accepted decision: the transaction, its entries and owned balances."""
        transaction = decision.transaction
        assert transaction.transaction_id not in self.transactions, "decision committed twice"
        self.transactions[transaction.transaction_id] = PostedTransaction(
            transaction=transaction, entries=decision.entries
        )
        if decision.voided is not None:
            original = self.transactions[decision.voided.transaction_id]
            self.transactions[decision.voided.transaction_id] = msgspec.structs.replace(
                original, transaction=decision.voided
            )
        if decision.remote_entries:
            remote = {e.entry_id for e in decision.remote_entries}
            self.entries_log.extend(e for e in decision.entries if e.entry_id not in remote)
        else:
            self.entries_log.extend(decision.entries)
        for balance in decision.balances:
            self.balances[(balance.account_id, balance.journal_id, balance.currency)] = balance

    def commit_remote(self, entries: Iterable[Entry]) -> tuple[Balance, ...]:
        """Fold legs accepted by another partition onto owned balances (of accounts and of
        the sets they roll up into) and keep them."""
        entries = list(entries)
        balances = apply_remote_entries(self, entries)
        self.entries_log.extend(e for e in entries if self.owns(e.account_id))
        for balance in balances:
            self.balances[(balance.account_id, balance.journal_id, balance.currency)] = balance
        return balances

    def post(self, command: Command, now: datetime) -> Posted | Rejected:
        """Decide ``command`` and commit it when accepted; returns the decision."""
        [decision] = self.post_batch([command], now)
        return decision

    def post_batch(self, commands: Sequence[Command], now: datetime) -> list[Decision]:
        """Decide ``commands`` as one batch, then commit the accepted ones in order."""
        decisions = decide_batch(self, commands, now)
        for decision in decisions:
            if isinstance(decision, Posted):
                self.commit(decision)
        return decisions
