"""The read model: the ledger's transactions folded into memory, for the API's reads.

One consumer (``read_committed``) reads the catalog and every partition of the transactions
topic from the beginning, in a background thread, and keeps:

- the catalog (journals, accounts, every tran code version, cards, ISO 8583 configs), as the
  processors hold it;
- the latest record of every transaction, with the partition that decided it;
- every entry, by id and by account (and by each account set it rolls up into), in the
  order their transactions were read;
- the balance of every (account, journal, currency), and of every (account set, journal,
  currency), folded here from those entries.

A transaction record carries all of its entries, so each transaction is applied whole, under
one lock: no read can see it on some of its accounts and not on the others. The processors'
balances topic is not read: it shows a posting on the house account only once that
account's partition has applied the leg, and the two sides of a transaction would appear
at different moments. Folding the same entries gives the same totals and versions (a fold is
a sum); only which entry came last on an account touched from two partitions at once may
differ from the processors' record.

Every applied transaction takes the next *sequence* number. A request reads one ``View``:
the read model as it was at one sequence number, so all its fields agree with each other
even while more transactions arrive. Balances keep the versions that some live view may
still read.

It never writes: the processors are the ledger's only writers. What it has read is described
by its position on each partition; ``wait_for`` lets a read wait until the positions pass
given offsets, which is how reads see writes acknowledged before them (see
``connectors.graphql_api.context``).

Limits: everything is in memory, about 1 KB per transaction (its record, which carries its
entries, kept as bytes and decoded when read) and a decoded balance per account, and the
topics are replayed on every start. That suits ledgers of some millions of entries; larger
ones need a persistent store per instance.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import uuid
import weakref
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, overload
from uuid import UUID

from confluent_kafka import OFFSET_BEGINNING, Consumer, Message, TopicPartition

from connectors.graphql_api.consumer_thread import ConsumerThread
from connectors.graphql_api.errors import ReadModelTimeoutError
from connectors.graphql_api.indexes import Condition, SortedIndex, encode_cursor, page
from ledger_core import (
    Account,
    AccountSet,
    Balance,
    Calculation,
    ControlLimit,
    Direction,
    Entry,
    Iso8583Config,
    Journal,
    PostedTransaction,
    TranCode,
    VelocityControl,
    fold_entry,
    fold_into_set,
)
from ledger_core.balances import with_normal_balance_type
from ledger_core.catalog import Catalog
from schemas import mapping
from schemas.codec import codec
from streams.catalog import entity_from
from streams.errors import LedgerError
from streams.kafka_config import kafka_config
from streams.topics import Topics

__all__ = ["Part", "ReadModel", "StoredTransaction", "View"]

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


@dataclass(eq=False)
class View:
    """The read model as one request reads it: after its first ``sequence`` transactions."""

    sequence: int


# The list queries: each kind of record, and the indexes it can be listed by.
INDEXES: dict[str, tuple[str, ...]] = {
    "accounts": ("ACCOUNT_ID", "NAME", "CODE", "STATUS", "EXTERNAL_ID"),
    "journals": ("JOURNAL_ID", "NAME", "CODE", "STATUS"),
    "tranCodes": ("TRAN_CODE_ID", "CODE", "STATUS"),
    "transactions": ("TRANSACTION_ID", "CORRELATION_ID", "EXTERNAL_ID"),
    "accountSets": ("ACCOUNT_SET_ID", "NAME", "CODE"),
    "calculations": ("CALCULATION_ID", "CODE"),
    "velocityControls": ("VELOCITY_CONTROL_ID", "NAME"),
    "velocityLimits": ("VELOCITY_LIMIT_ID", "NAME"),
}


@dataclass(frozen=True)
class Listed:
    """One page of a list query: each record with its cursor, and whether more follow."""

    records: list[tuple[str, Any]]
    more: bool


# Where an entry is kept: the transaction record that carries it and its index there.
EntryRef = tuple[str, int]


class EntryList(Sequence[Entry]):
    """Entries kept as references into their transactions' records, decoded only when read."""

    def __init__(self, model: ReadModel, refs: tuple[EntryRef, ...]) -> None:
        self._model = model
        self._refs = refs

    def __len__(self) -> int:
        """How many entries."""
        return len(self._refs)

    @overload
    def __getitem__(self, index: int) -> Entry: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Entry]: ...

    def __getitem__(self, index: int | slice) -> Entry | Sequence[Entry]:
        """One entry, or a slice of them, decoded."""
        if isinstance(index, slice):
            return tuple(self._model.entry_at(ref) for ref in self._refs[index])
        return self._model.entry_at(self._refs[index])


_SEQUENCE = itemgetter(0)


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
    """The catalog, transactions, entries and balances of one ledger, kept up to date."""

    def __init__(self, bootstrap: str, topics: Topics) -> None:
        self.bootstrap = bootstrap
        self.topics = topics
        self.catalog = Catalog()
        self.undecodable = 0
        self._tran_code_ids: dict[UUID, str] = {}
        # Transactions are kept as the bytes the processors wrote and decoded when read:
        # most are never read, and bytes take a fraction of the memory of decoded records.
        self._sequence = 0
        self._transactions: dict[str, tuple[int, int, bytes]] = {}
        self._account_entries: dict[str, list[tuple[int, EntryRef]]] = {}
        self._entry_ids: dict[str, tuple[int, EntryRef]] = {}
        # every (sequence, balance) of a key that a live view may still read, oldest first
        self._balances: dict[tuple[str, str, str], list[tuple[int, Balance]]] = {}
        # Each owner's (journal, currency) pairs, in the order its balances began.
        self._owner_balances: dict[str, list[tuple[str, str]]] = {}
        self._views: weakref.WeakSet[View] = weakref.WeakSet()
        # the list queries' indexes: kind -> index name -> (key, id) pairs in order
        self._indexes = {kind: {name: SortedIndex() for name in names}
                         for kind, names in INDEXES.items()}
        for journal in self.catalog.journals.values():  # the DEFAULT journal, no record's
            self._index_journal(journal)
        self._oldest_view = 0
        self._positions: dict[Part, int] = {}
        self._waiters: list[_Waiter] = []
        self._lock = threading.Lock()
        self._moved = threading.Condition(self._lock)
        super().__init__("api-read-model", POLL_S, BATCH_MAX)
        self._decoders = {topics.catalog: self._apply_catalog,
                          topics.transactions: self._apply_transaction}

    # Lifecycle ------------------------------------------------------------------------

    def parts(self) -> list[Part]:
        """Every partition the read model reads."""
        return [(self.topics.catalog, 0),
                *[(self.topics.transactions, p) for p in range(self.topics.partitions)]]

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
            self._oldest_view = min((view.sequence for view in self._views),
                                    default=self._sequence)
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
            latest = self.catalog.tran_code(entity.code, None)
            assert latest is not None
            self._index("tranCodes", latest.code, TRAN_CODE_ID=str(latest.tran_code_id),
                        CODE=latest.code, STATUS=latest.status.value)
        elif isinstance(entity, Account):
            self._index("accounts", str(entity.account_id), ACCOUNT_ID=str(entity.account_id),
                        NAME=entity.name, CODE=entity.code, STATUS=entity.status.value,
                        EXTERNAL_ID=entity.external_id)
        elif isinstance(entity, AccountSet):
            self._index("accountSets", str(entity.account_set_id),
                        ACCOUNT_SET_ID=str(entity.account_set_id), NAME=entity.name,
                        CODE=entity.code)
        elif isinstance(entity, Calculation):
            self._index("calculations", str(entity.calculation_id),
                        CALCULATION_ID=str(entity.calculation_id), CODE=entity.code)
        elif isinstance(entity, VelocityControl):
            self._index("velocityControls", str(entity.velocity_control_id),
                        VELOCITY_CONTROL_ID=str(entity.velocity_control_id), NAME=entity.name)
        elif isinstance(entity, ControlLimit):
            self._index("velocityLimits", str(entity.velocity_limit_id),
                        VELOCITY_LIMIT_ID=str(entity.velocity_limit_id), NAME=entity.name)
        elif isinstance(entity, Journal):
            self._index_journal(entity)

    def _index_journal(self, journal: Journal) -> None:
        self._index("journals", str(journal.journal_id), JOURNAL_ID=str(journal.journal_id),
                    NAME=journal.name, CODE=journal.code, STATUS=journal.status.value)

    def _index(self, kind: str, record_id: str, **keys: str | None) -> None:
        for name, key in keys.items():
            self._indexes[kind][name].put(record_id, key)

    def _apply_transaction(self, message: Message) -> None:
        transaction_id = codec().decode("transaction_key", message.key())["transaction_id"]
        partition = message.partition()
        assert partition is not None
        value = _value(message)
        posted = mapping.posted_from(codec().decode("transaction", value))
        known = self._transactions.get(transaction_id)
        if known is not None:
            # A later record of a posted transaction (its void) carries the same entries:
            # only the record changes.
            self._transactions[transaction_id] = (known[0], partition, value)
            return
        # decoded in full first: a record that cannot be read changes nothing
        sequence = self._sequence + 1
        self._transactions[transaction_id] = (sequence, partition, value)
        tx = posted.transaction
        self._index("transactions", transaction_id, TRANSACTION_ID=transaction_id,
                    CORRELATION_ID=tx.correlation_id, EXTERNAL_ID=tx.external_id)
        for index, entry in enumerate(posted.entries):
            ref = (transaction_id, index)
            self._entry_ids[str(entry.entry_id)] = (sequence, ref)
            for owner in (entry.account_id, *entry.parent_account_ids):
                self._account_entries.setdefault(str(owner), []).append((sequence, ref))
                self._fold(sequence, owner, entry)
        self._sequence = sequence

    def _fold(self, sequence: int, owner_id: UUID, entry: Entry) -> None:
        """Fold ``entry`` onto the balance of ``owner_id``: its account, or a set it names."""
        key = (str(owner_id), str(entry.journal_id), entry.currency)
        history = self._balances.get(key)
        if history is None:
            history = self._balances[key] = []
            self._owner_balances.setdefault(key[0], []).append(key[1:])
        # An account (or set) read after its first posting (the catalog's partition lagging)
        # is folded as credit-normal, and read as its catalog record says (``balance``).
        normal = self._normal_balance_type(owner_id) or Direction.CREDIT
        latest = with_normal_balance_type(history[-1][1], normal) if history else None
        if owner_id == entry.account_id:
            folded = fold_entry(latest, entry, normal)
        else:
            folded = fold_into_set(latest, owner_id, entry, normal)
        if history and history[-1][0] == sequence:
            history[-1] = (sequence, folded)  # two entries of one transaction on one account
        else:
            history.append((sequence, folded))
        # the newest version the oldest live view reads, and every later one, are kept
        keep_from = bisect_right(history, self._oldest_view, key=_SEQUENCE) - 1
        if keep_from > 0:
            del history[:keep_from]

    # Reads ----------------------------------------------------------------------------

    def view(self) -> View:
        """The read model as it is now, fixed for one request's reads."""
        with self._lock:
            view = View(self._sequence)
            self._views.add(view)
        return view

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

    def balance(self, account_id: UUID, journal_id: UUID, currency: str,
                view: View) -> Balance | None:
        """The balance of the account in the journal and currency as ``view`` sees it, or
        None."""
        with self._lock:
            history = self._balances.get((str(account_id), str(journal_id), currency), [])
            at = bisect_right(history, view.sequence, key=_SEQUENCE) - 1
            found = history[at][1] if at >= 0 else None
            normal = self._normal_balance_type(account_id)
        if found is None or normal is None:
            return found
        return with_normal_balance_type(found, normal)

    def _normal_balance_type(self, owner_id: UUID) -> Direction | None:
        account = self.catalog.account(owner_id)
        if account is not None:
            return account.normal_balance_type
        account_set = self.catalog.account_set(owner_id)
        return None if account_set is None else account_set.normal_balance_type

    def balances_of(self, owner_id: UUID, view: View) -> list[Balance]:
        """Every balance of the account (or set) that ``view`` sees, in every journal and
        currency."""
        owner = str(owner_id)
        with self._lock:
            pairs = list(self._owner_balances.get(owner, ()))
        found = [self.balance(owner_id, UUID(journal), currency, view)
                 for journal, currency in pairs]
        return [balance for balance in found if balance is not None]

    def transaction(self, transaction_id: UUID,
                    view: View | None = None) -> StoredTransaction | None:
        """The latest record of the transaction (if ``view`` sees it), or None."""
        with self._lock:
            found = self._transactions.get(str(transaction_id))
        if found is None or (view is not None and found[0] > view.sequence):
            return None
        _sequence, partition, raw = found
        return StoredTransaction(mapping.posted_from(codec().decode("transaction", raw)),
                                 partition)

    def entry(self, entry_id: UUID, view: View) -> Entry | None:
        """The entry, if ``view`` sees it, or None."""
        with self._lock:
            found = self._entry_ids.get(str(entry_id))
        if found is None or found[0] > view.sequence:
            return None
        return self.entry_at(found[1])

    def entry_at(self, ref: EntryRef) -> Entry:
        """The entry at a reference this read model handed out."""
        with self._lock:
            raw = self._transactions[ref[0]][2]
        return mapping.entry_from(codec().decode("transaction", raw)["entries"][ref[1]])

    def account_set(self, account_set_id: UUID) -> AccountSet | None:
        """The account set as its latest version has it (LOCKED once deleted), or None."""
        return self.catalog.account_set(account_set_id)

    def account_entries(self, account_id: UUID, view: View) -> Sequence[Entry]:
        """Every entry on the account (or rolled up into the set) that ``view`` sees, in the
        order they were read."""
        with self._lock:
            entries = self._account_entries.get(str(account_id), [])
            seen = bisect_right(entries, view.sequence, key=_SEQUENCE)
            return EntryList(self, tuple(ref for _sequence, ref in entries[:seen]))

    def listed(self, kind: str, index: str, where: Mapping[str, Condition], after: str | None,
               first: int, descending: bool, view: View) -> Listed:
        """A page of ``kind`` (a key of ``INDEXES``) in the order of its ``index``: the
        records every condition of ``where`` (by index name) allows, and that ``view``
        sees; raises ``CursorError`` for a cursor this API did not return."""
        with self._lock:
            indexes = self._indexes[kind]

            def keep(record_id: str) -> bool:
                if kind == "transactions" and self._transactions[record_id][0] > view.sequence:
                    return False
                for name, condition in where.items():
                    key = indexes[name].key(record_id)
                    if key is None or not condition.matches(key):
                        return False
                return True

            pairs, more = page(indexes[index], where.get(index), after, first, descending,
                               keep)
            records = [(encode_cursor(pair), self._listed_record(kind, pair[1]))
                       for pair in pairs]
        return Listed(records, more)

    def _listed_record(self, kind: str, record_id: str) -> Any:
        if kind == "accounts":
            return self.catalog.account(UUID(record_id))
        if kind == "journals":
            return self.catalog.journal(UUID(record_id))
        if kind == "tranCodes":
            return self.catalog.tran_code(record_id, None)
        if kind == "accountSets":
            return self.catalog.account_set(UUID(record_id))
        if kind == "calculations":
            return self.catalog.calculations[UUID(record_id)]
        if kind == "velocityControls":
            return self.catalog.velocity_controls[UUID(record_id)]
        if kind == "velocityLimits":
            return self.catalog.control_limits[UUID(record_id)]
        return mapping.posted_from(codec().decode("transaction",
                                                  self._transactions[record_id][2]))

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
