"""One owned partition: its state, the batch's pending writes, and the view ``apply`` reads.

The view owns exactly the accounts whose owner partition is this one, whatever else the
process holds, so a decision never depends on how partitions happen to be assigned.
"""

import itertools
from collections.abc import Sequence
from functools import lru_cache
from typing import Any
from uuid import UUID

from ledger_core import (
    Account,
    AccountSet,
    Balance,
    Journal,
    PostedTransaction,
    TranCode,
    VelocityLimit,
)
from ledger_core.catalog import Catalog
from ledger_core.views import BalanceKey
from schemas import mapping
from schemas.codec import codec
from streams.partitioning import owner_partition
from streams.state import BALANCE, HOLDER, TRANSACTION, PartitionState

# Decoded balances kept in memory per partition (a few hundred bytes each).
COMMITTED_CACHE_MAX = 200_000

# A staged write: a balance version, a posted transaction, or the partition holding an id.
Staged = Balance | PostedTransaction | int


@lru_cache(maxsize=1 << 20)
def balance_key(account_id: UUID, journal_id: UUID, currency: str) -> bytes:
    """The framed BalanceKey: the balances topic's key and the state's balance key."""
    return codec().encode("balance_key", {"account_id": str(account_id),
                                          "journal_id": str(journal_id), "currency": currency})


def transaction_key(transaction_id: UUID) -> bytes:
    """The framed TransactionKey: the transactions topic's key and the state's key."""
    return codec().encode("transaction_key", {"transaction_id": str(transaction_id)})


class PartitionTask:
    """A partition's committed state plus the uncommitted writes of the current batch."""

    def __init__(self, partition: int, partitions: int, store: PartitionState,
                 catalog: Catalog) -> None:
        self.partition = partition
        self.partitions = partitions
        self.store = store
        self.catalog = catalog
        self._pending: dict[bytes, tuple[bytes, Staged]] = {}
        # What each staged write replaced, so one record's writes can be taken back alone.
        self._undo: list[tuple[bytes, tuple[bytes, Staged] | None]] = []
        # Decoded committed state, so a hot account is not read and decoded from RocksDB
        # for every posting; filled on reads and with each committed batch.
        self._committed: dict[bytes, Balance | PostedTransaction] = {}
        # What the batch's prefetch read from RocksDB (None: absent), until the batch ends.
        self._read: dict[bytes, bytes | None] = {}

    # LedgerView -----------------------------------------------------------------------

    def journal(self, journal_id: UUID) -> Journal | None:
        """The journal with this id, or None."""
        return self.catalog.journal(journal_id)

    def account(self, account_id: UUID) -> Account | None:
        """The account with this id, or None."""
        return self.catalog.account(account_id)

    def account_set(self, account_set_id: UUID) -> AccountSet | None:
        """The account set with this id, or None."""
        return self.catalog.account_set(account_set_id)

    def parent_sets(self, account_id: UUID, journal_id: UUID) -> tuple[UUID, ...]:
        """The sets an entry of the journal on the account rolls up into."""
        return self.catalog.parent_sets(account_id, journal_id)

    def tran_code(self, code: str, version: int | None) -> TranCode | None:
        """The tran code at ``version`` (latest when None), or None."""
        return self.catalog.tran_code(code, version)

    def limits_for(self, account_id: UUID) -> Sequence[VelocityLimit]:
        """Every limit attached to the account."""
        return self.catalog.limits_for(account_id)

    def balance(self, account_id: UUID, journal_id: UUID, currency: str) -> Balance | None:
        """The balance as of the last staged write, or None."""
        key = BALANCE + balance_key(account_id, journal_id, currency)
        pending = self._pending.get(key)
        if pending is not None:
            assert isinstance(pending[1], Balance)
            return pending[1]
        cached = self._committed.get(key)
        if cached is not None:
            assert isinstance(cached, Balance)
            return cached
        raw = self._stored(key)
        if raw is None:
            return None
        balance = mapping.balance_from(codec().decode("balance", raw))
        self._remember(key, balance)
        return balance

    def posted(self, transaction_id: UUID) -> PostedTransaction | None:
        """The posted transaction as of the last staged write, or None."""
        key = TRANSACTION + transaction_key(transaction_id)
        pending = self._pending.get(key)
        if pending is not None:
            assert isinstance(pending[1], PostedTransaction)
            return pending[1]
        raw = self._stored(key)
        if raw is None:
            return None
        return mapping.posted_from(codec().decode("transaction", raw))

    def _stored(self, key: bytes) -> bytes | None:
        if key in self._read:
            return self._read[key]
        return self.store.get(key[:1], key[1:])

    def prefetch(self, transaction_ids: Sequence[UUID],
                 balance_keys: Sequence[BalanceKey]) -> None:
        """Read, in one RocksDB multi-get, what the batch will look up and has neither
        staged nor cached: the posted transactions of these ids and these balances."""
        keys = [TRANSACTION + transaction_key(t) for t in transaction_ids]
        keys += [BALANCE + balance_key(*k) for k in balance_keys]
        wanted = [k for k in dict.fromkeys(keys)
                  if k not in self._pending and k not in self._committed and k not in self._read]
        if wanted:
            self._read.update(zip(wanted, self.store.get_many(wanted), strict=True))

    def owns(self, account_id: UUID) -> bool:
        """True when this partition owns the account."""
        return owner_partition(account_id, self.partitions) == self.partition

    # Writes ---------------------------------------------------------------------------

    def stage_balance(self, balance: Balance) -> tuple[bytes, bytes]:
        """Stage a new balance version; return its Kafka key and value."""
        key = balance_key(balance.account_id, balance.journal_id, balance.currency)
        value = codec().encode("balance", mapping.balance_record(balance))
        self._stage(BALANCE + key, (value, balance))
        return key, value

    def stage_transaction(self, posted: PostedTransaction,
                          record: dict[str, Any] | None = None) -> tuple[bytes, bytes]:
        """Stage a posted transaction (or its voided version); return its Kafka key and value.

        ``record`` is its ``transaction`` record when the caller has already mapped it.
        """
        key = transaction_key(posted.transaction.transaction_id)
        value = codec().encode("transaction", record or mapping.transaction_record(posted))
        self._stage(TRANSACTION + key, (value, posted))
        return key, value

    def holder(self, key: bytes) -> int | None:
        """The partition holding the transaction id of TransactionKey ``key``, as this
        partition's registry knows it (staged writes included), or None."""
        pending = self._pending.get(HOLDER + key)
        if pending is not None:
            assert isinstance(pending[1], int)
            return pending[1]
        raw = self.store.get(HOLDER, key)
        return None if raw is None else int(codec().decode("transaction_id", raw)["partition"])

    def stage_holder(self, key: bytes, record: dict[str, Any]) -> bytes:
        """Stage the registry's record that an id is held by ``record["partition"]``;
        return its Kafka value."""
        value = codec().encode("transaction_id", record)
        self._stage(HOLDER + key, (value, int(record["partition"])))
        return value

    def _stage(self, key: bytes, staged: tuple[bytes, Staged]) -> None:
        self._undo.append((key, self._pending.get(key)))
        self._pending[key] = staged

    def savepoint(self) -> int:
        """A mark to roll back to: the writes staged so far."""
        return len(self._undo)

    def rollback(self, mark: int) -> None:
        """Take back every write staged since ``mark`` (its record failed)."""
        while len(self._undo) > mark:
            key, previous = self._undo.pop()
            if previous is None:
                del self._pending[key]
            else:
                self._pending[key] = previous

    def take_pending(self) -> list[tuple[bytes, bytes]]:
        """The staged writes as state key/value pairs (their batch has committed)."""
        items = []
        for key, (value, model) in self._pending.items():
            items.append((key, value))
            if isinstance(model, Balance):
                self._remember(key, model)
        self._pending.clear()
        self._undo.clear()
        self._read.clear()
        return items

    def _remember(self, key: bytes, balance: Balance) -> None:
        self._committed.pop(key, None)
        self._committed[key] = balance
        if len(self._committed) > COMMITTED_CACHE_MAX:
            # the oldest tenth goes; a balance written or read again moved to the end
            for old in list(itertools.islice(self._committed, COMMITTED_CACHE_MAX // 10)):
                del self._committed[old]

    def discard_pending(self) -> None:
        """Forget the staged writes of an aborted batch."""
        self._pending.clear()
        self._undo.clear()
        self._read.clear()
