"""The read model: the ledger's output topics folded into memory, for the API's reads.

One consumer (``read_committed``) reads every partition of the catalog, balances (CDC),
transactions and entries topics from the beginning, in a background thread, and keeps:

- the catalog (journals, accounts, every tran code version, cards, ISO 8583 configs), as the
  processors hold it;
- the latest balance of every (account, journal, currency);
- the latest record of every transaction, with the partition that decided it;
- every entry, by id and by account, in log order.

It never writes: the processors are the ledger's only writers. What it has read is described
by its position on each partition; ``wait_for`` lets a read wait until the positions pass
given offsets, which is how reads see writes acknowledged before them (see
``connectors.graphql_api.consistency``).

Records are kept as the bytes the processors wrote and decoded when a read needs them.

Limits: everything is in memory, about 0.5 KB per entry and 1 KB per transaction (its
record carries its entries) with the indexes, and the topics are replayed on every start.
That suits ledgers of some millions of entries; larger ones need a persistent store per
instance.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, overload
from uuid import UUID

from confluent_kafka import OFFSET_BEGINNING, Consumer, Message, TopicPartition

from connectors.graphql_api.consumer_thread import ConsumerThread
from connectors.graphql_api.errors import ReadModelTimeoutError
from ledger_core import (
    Account,
    Balance,
    Entry,
    Iso8583Config,
    Journal,
    PostedTransaction,
    TranCode,
)
from ledger_core.catalog import Catalog
from schemas import mapping
from schemas.codec import codec
from streams.catalog import entity_from
from streams.errors import LedgerError
from streams.kafka_config import kafka_config
from streams.topics import Topics

__all__ = ["Part", "ReadModel", "StoredTransaction"]

log = logging.getLogger(__name__)

Part = tuple[str, int]
# A short poll keeps the positions fresh even when only transaction markers arrive.
POLL_S = 0.005
BATCH_MAX = 5000


@dataclass(frozen=True)
class StoredTransaction:
    """A transaction with its entries, and the transactions-topic partition that decided it."""

    posted: PostedTransaction
    partition: int


class EntryList(Sequence[Entry]):
    """Entries kept as their records' bytes, decoded only when read."""

    def __init__(self, raw: tuple[bytes, ...]) -> None:
        self._raw = raw

    def __len__(self) -> int:
        """How many entries."""
        return len(self._raw)

    @overload
    def __getitem__(self, index: int) -> Entry: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Entry]: ...

    def __getitem__(self, index: int | slice) -> Entry | Sequence[Entry]:
        """One entry, or a slice of them, decoded."""
        if isinstance(index, slice):
            return tuple(_entry(raw) for raw in self._raw[index])
        return _entry(self._raw[index])


def _entry(raw: bytes) -> Entry:
    return mapping.entry_from(codec().decode("entry", raw))


def _value(message: Message) -> bytes:
    value = message.value()
    assert value is not None, "the ledger's topics hold no tombstones"
    return value


@dataclass(eq=False)
class _Waiter:
    targets: dict[Part, int]
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[None]


class ReadModel(ConsumerThread):
    """The catalog, balances, transactions and entries of one ledger, kept up to date."""

    def __init__(self, bootstrap: str, topics: Topics) -> None:
        self.bootstrap = bootstrap
        self.topics = topics
        self.catalog = Catalog()
        self.undecodable = 0
        self._tran_code_ids: dict[UUID, str] = {}
        # Records are kept as the bytes the processors wrote and decoded when read: most are
        # never read, and bytes take a fraction of the memory of the decoded records.
        self._balances: dict[tuple[str, str, str], bytes] = {}
        self._transactions: dict[str, tuple[int, bytes]] = {}
        self._account_entries: dict[str, list[bytes]] = {}
        self._entry_ids: dict[str, tuple[str, int]] = {}
        self._positions: dict[Part, int] = {}
        self._waiters: list[_Waiter] = []
        self._lock = threading.Lock()
        self._moved = threading.Condition(self._lock)
        super().__init__("api-read-model", POLL_S, BATCH_MAX)
        self._decoders = {
            topics.catalog: self._apply_catalog, topics.balances: self._apply_balance,
            topics.transactions: self._apply_transaction, topics.entries: self._apply_entry,
        }

    # Lifecycle ------------------------------------------------------------------------

    def parts(self) -> list[Part]:
        """Every partition the read model reads."""
        n = self.topics.partitions
        return [(self.topics.catalog, 0),
                *[(topic, p) for topic in (self.topics.balances, self.topics.transactions,
                                           self.topics.entries) for p in range(n)]]

    def start(self) -> None:
        """Start reading every partition from its beginning, in a background thread."""
        consumer = Consumer(kafka_config(self.bootstrap, {
            "client.id": "ledger-api-read-model",
            "group.id": f"api-read-model-{uuid.uuid4()}",
            "isolation.level": "read_committed", "enable.auto.commit": False,
            "enable.partition.eof": False, "auto.offset.reset": "earliest",
        }))
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING)
                         for topic, p in self.parts()])
        self._assignment = [TopicPartition(topic, p) for topic, p in self.parts()]
        self._launch(consumer)

    def _handle(self, consumer: Consumer, messages: list[Message]) -> None:
        positions = consumer.position(self._assignment)
        with self._lock:
            for message in messages:
                self._apply(message)
            for tp in positions:
                if tp.offset >= 0:
                    self._positions[(tp.topic, tp.partition)] = tp.offset
            ready = [w for w in self._waiters if self._reached(w.targets)]
            if ready:
                self._waiters = [w for w in self._waiters if not self._reached(w.targets)]
            self._moved.notify_all()
        for waiter in ready:
            _resolve_soon(waiter)

    # Folding --------------------------------------------------------------------------

    def _apply(self, message: Message) -> None:
        if message.error() is not None:
            return
        topic = message.topic()
        assert topic is not None
        try:
            self._decoders[topic](message)
        except Exception:
            # The processors wrote these records; one that cannot be read is a contract break
            # to investigate (it is counted on /health), never a reason to stop serving the
            # rest of the ledger.
            self.undecodable += 1
            log.exception("read model: %s[%s]@%s cannot be read", topic, message.partition(),
                          message.offset())

    def _apply_catalog(self, message: Message) -> None:
        entity = entity_from(codec().decode("catalog_record", message.value()))
        self.catalog.put(entity)
        if isinstance(entity, TranCode):
            self._tran_code_ids[entity.tran_code_id] = entity.code

    def _apply_balance(self, message: Message) -> None:
        key = codec().decode("balance_key", message.key())
        self._balances[(key["account_id"], key["journal_id"], key["currency"])] = _value(message)

    def _apply_transaction(self, message: Message) -> None:
        key = codec().decode("transaction_key", message.key())
        partition = message.partition()
        assert partition is not None
        value = _value(message)
        codec().decode("transaction", value)  # kept as bytes, but only if they can be read
        self._transactions[key["transaction_id"]] = (partition, value)

    def _apply_entry(self, message: Message) -> None:
        value = _value(message)
        entry_id = codec().decode("entry", value)["entry_id"]
        if entry_id in self._entry_ids:
            return
        account_id = codec().decode("account_key", message.key())["account_id"]
        entries = self._account_entries.setdefault(account_id, [])
        self._entry_ids[entry_id] = (account_id, len(entries))
        entries.append(value)

    # Reads ----------------------------------------------------------------------------

    def journal(self, journal_id: UUID) -> Journal | None:
        """The journal, or None."""
        return self.catalog.journal(journal_id)

    def account(self, account_id: UUID) -> Account | None:
        """The account as its latest version has it, or None."""
        return self.catalog.account(account_id)

    def iso8583_config(self, config_id: UUID) -> Iso8583Config | None:
        """The ISO 8583 config at its latest version (LOCKED once deleted), or None."""
        return self.catalog.iso8583_config(config_id)

    def iso8583_configs(self) -> list[Iso8583Config]:
        """Every ISO 8583 config at its latest version, deleted ones included."""
        with self._lock:
            return list(self.catalog.iso8583_configs.values())

    def tran_code(self, code: str, version: int | None = None) -> TranCode | None:
        """The tran code at ``version`` (its latest when None), or None."""
        with self._lock:
            return self.catalog.tran_code(code, version)

    def tran_code_by_id(self, tran_code_id: UUID) -> TranCode | None:
        """The latest version of the tran code with this id, or None."""
        with self._lock:
            code = self._tran_code_ids.get(tran_code_id)
            return None if code is None else self.catalog.tran_code(code, None)

    def balance(self, account_id: UUID, journal_id: UUID, currency: str) -> Balance | None:
        """The latest balance of the account in the journal and currency, or None."""
        raw = self._balances.get((str(account_id), str(journal_id), currency))
        return None if raw is None else mapping.balance_from(codec().decode("balance", raw))

    def transaction(self, transaction_id: UUID) -> StoredTransaction | None:
        """The latest record of the transaction, or None."""
        found = self._transactions.get(str(transaction_id))
        if found is None:
            return None
        partition, raw = found
        return StoredTransaction(mapping.posted_from(codec().decode("transaction", raw)),
                                 partition)

    def entry(self, entry_id: UUID) -> Entry | None:
        """The entry, or None."""
        with self._lock:
            found = self._entry_ids.get(str(entry_id))
            raw = None if found is None else self._account_entries[found[0]][found[1]]
        return None if raw is None else _entry(raw)

    def account_entries(self, account_id: UUID) -> Sequence[Entry]:
        """Every entry on the account, in the order the entries topic holds them."""
        with self._lock:
            return EntryList(tuple(self._account_entries.get(str(account_id), ())))

    def stats(self) -> dict[str, Any]:
        """Counts and positions, for the health endpoint."""
        with self._lock:
            return {"accounts": len(self.catalog.accounts), "balances": len(self._balances),
                    "transactions": len(self._transactions), "entries": len(self._entry_ids),
                    "undecodable": self.undecodable,
                    "positions": {f"{t}[{p}]": o for (t, p), o in sorted(self._positions.items())}}

    # Positions ------------------------------------------------------------------------

    def _reached(self, targets: Mapping[Part, int]) -> bool:
        return all(self._positions.get(part, 0) >= offset
                   for part, offset in targets.items() if offset > 0)

    def _behind(self, targets: Mapping[Part, int]) -> str:
        return ", ".join(f"{t}[{p}] at {self._positions.get((t, p), 0)} of {offset}"
                         for (t, p), offset in sorted(targets.items())
                         if self._positions.get((t, p), 0) < offset)

    async def wait_for(self, targets: Mapping[Part, int], timeout_s: float) -> None:
        """Return once the read model has read every partition up to its target offset."""
        loop = asyncio.get_running_loop()
        waiter = _Waiter(dict(targets), loop, loop.create_future())
        with self._lock:
            if self._reached(targets):
                return
            self._waiters.append(waiter)
        try:
            await asyncio.wait_for(waiter.future, timeout_s)
        except TimeoutError:
            with self._lock:
                self._waiters = [w for w in self._waiters if w is not waiter]
                behind = self._behind(targets)
            raise ReadModelTimeoutError(
                f"the read model did not catch up in {timeout_s:g}s ({behind}); the data is "
                "in Kafka, retry the read") from None

    def wait_for_blocking(self, targets: Mapping[Part, int], timeout_s: float) -> None:
        """Block until the read model has read every partition up to its target offset."""
        with self._lock:
            if not self._moved.wait_for(lambda: self._reached(targets), timeout_s):
                raise LedgerError(f"the read model did not catch up in {timeout_s:g}s: "
                                  f"{self._behind(targets)}")


def _resolve_soon(waiter: _Waiter) -> None:
    def resolve() -> None:
        if not waiter.future.done():
            waiter.future.set_result(None)

    # A closed event loop raises RuntimeError: its request is gone, nobody is waiting.
    with contextlib.suppress(RuntimeError):
        waiter.loop.call_soon_threadsafe(resolve)
