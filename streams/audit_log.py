"""``ledger audit``: read the ledger's topics from the beginning and prove its invariants.

Reading is the shell's part: every topic is read with ``read_committed`` up to its end as it
was when the audit started, and the records are fed, in log order, to the pure
``ledger_core.audit.LedgerAudit``. Entries are decoded straight from Avro into the few fields
the replay needs, because the replay is the part that must be fast.
"""

import io
import multiprocessing
import os
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import fastavro
from confluent_kafka import Consumer

from ledger_core import Direction, Layer
from ledger_core.audit import AuditEntry, FoldedBalance, LedgerAudit, Position, Violation
from schemas.codec import codec
from streams.catalog import CatalogReader
from streams.offsets import end_offset
from streams.partitioning import owner_partition
from streams.reading import read_committed
from streams.state import read_stopped
from streams.topics import Topics

BalanceKey = tuple[str, str, str]
_LAYERS = {layer.value: layer for layer in Layer}
_DIRECTIONS = {direction.value: direction for direction in Direction}
_LAYER_FIELDS = ("settled", "pending", "encumbrance")


@dataclass
class AuditReport:
    """What an audit found, and how fast it replayed."""

    violations: list[Violation]
    entries: int
    transactions: int
    results: int
    balances: int
    replay_seconds: float

    @property
    def entries_per_second(self) -> float:
        """Replay speed of the entries topic."""
        return self.entries / self.replay_seconds if self.replay_seconds else 0.0


class Progress:
    """A progress line on stderr, redrawn at most twice a second."""

    def __init__(self, label: str, total: int, enabled: bool) -> None:
        self.label, self.total, self.enabled = label, total, enabled
        self.done = 0
        self._started = self._drawn = time.monotonic()

    def advance(self, count: int) -> None:
        """Count ``count`` more records."""
        self.done += count
        now = time.monotonic()
        if self.enabled and now - self._drawn > 0.5:
            self._drawn = now
            self._draw(now)

    def close(self) -> None:
        """Draw the final line."""
        if self.enabled:
            self._draw(time.monotonic())
            print(file=sys.stderr)

    def _draw(self, now: float) -> None:
        rate = self.done / max(now - self._started, 1e-9)
        share = self.done / self.total if self.total else 1.0
        bar = "#" * int(share * 30)
        print(f"\r{self.label:<13} [{bar:<30}] {self.done:>10,}/{self.total:,} "
              f"{rate:>10,.0f}/s", end="", file=sys.stderr, flush=True)


def topic_size(bootstrap: str, topic: str, partitions: int) -> int:
    """How many offsets the topic's partitions hold (records plus transaction markers)."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"size-{uuid.uuid4()}"})
    try:
        return sum(end_offset(consumer, topic, p) for p in range(partitions))
    finally:
        consumer.close()


def run_audit(bootstrap: str, topics: Topics, partitions: int,
              state_dirs: tuple[Path, ...] = (), show_progress: bool = False,
              workers: int | None = None) -> AuditReport:
    """Audit the ledger named by ``topics``; return every violation found.

    The entries topic is replayed by ``workers`` processes (default: one per CPU, or one for
    a small log), each folding whole partitions; an account lives on one partition, so
    the partial replays merge by addition.
    """
    catalog = CatalogReader(bootstrap, topics.catalog)
    try:
        catalog.catch_up()
    finally:
        catalog.close()
    table = catalog.table
    audit = LedgerAudit(
        {str(a): account.normal_balance_type for a, account in table.accounts.items()},
        {str(a): list(limits.values()) for a, limits in table.limits.items()})

    results = []
    answered: Counter[Position] = Counter()
    for message in read_committed(bootstrap, topics.results, range(partitions)):
        record = codec().decode("result", message.value())
        position = _position(message)
        results.append((record["command_id"], record["transaction_id"], record["status"],
                        position))
        if record["warnings"] and record["transaction_id"]:
            audit.warned(record["transaction_id"])
        answered[Position(record["source_topic"], record["source_partition"],
                          record["source_offset"])] += 1
    for message in read_committed(bootstrap, topics.dead_letters, [0]):
        letter = codec().decode("dead_letter", message.value())
        answered[Position(letter["topic"], letter["partition"], letter["offset"])] += 1
    inputs = [_position(m) for m in read_committed(bootstrap, topics.commands, range(partitions))]
    inputs += [_position(m) for m in read_committed(bootstrap, topics.catalog_commands, [0])]

    started = time.monotonic()
    replay_entries(bootstrap, topics, partitions, audit, workers, show_progress)
    replay_seconds = time.monotonic() - started

    transactions = [(record["transaction_id"], record["entry_count"], _position(m))
                    for m in read_committed(bootstrap, topics.transactions, range(partitions))
                    if (record := codec().decode("transaction", m.value()))]
    violations = audit.finish(transactions, results, inputs, answered)
    cdc, cdc_positions = _cdc_balances(bootstrap, topics, partitions)
    audit.compare("cdc", cdc, cdc_positions)
    for state_dir in state_dirs:
        for path in sorted(state_dir.glob("partition-*")):
            _compare_state(audit, path, topics.balances, cdc_positions)
    return AuditReport(list(violations), audit.entries_seen, len(transactions), len(results),
                       len(audit.balances), replay_seconds)


# Below this many entries, starting worker processes costs more than it saves.
_PARALLEL_ENTRIES_MIN = 200_000


def replay_entries(bootstrap: str, topics: Topics, partitions: int, audit: LedgerAudit,
                   workers: int | None, show_progress: bool = False) -> None:
    """Replay the whole entries topic into ``audit`` with ``workers`` processes."""
    total = topic_size(bootstrap, topics.entries, partitions)
    count = workers or (os.cpu_count() or 1)
    count = min(count, partitions) if total >= _PARALLEL_ENTRIES_MIN or workers else 1
    if count <= 1:
        progress = Progress("entries", total, show_progress)
        replay_partitions(bootstrap, topics.entries, range(partitions), audit,
                          progress.advance)
        progress.close()
        return
    shares = [list(range(partitions))[i::count] for i in range(count)]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=count, mp_context=context) as pool:
        parts = pool.map(_replay_share, [(bootstrap, topics.entries, share, audit.normal_types,
                                          audit.limits, audit.warned_transactions)
                                         for share in shares])
        for part in parts:
            audit.absorb(part)


def _replay_share(job: tuple[str, str, list[int], Any, Any, set[str]]) -> LedgerAudit:
    bootstrap, topic, share, normal_types, limits, warned = job
    part = LedgerAudit(normal_types, limits)
    for transaction_id in warned:
        part.warned(transaction_id)
    replay_partitions(bootstrap, topic, share, part)
    part.end_of_entries()
    part.forget_entry_ids()
    return part


def replay_partitions(bootstrap: str, topic: str, partitions: Iterable[int],
                      audit: LedgerAudit, on_batch: Callable[[int], None] | None = None) -> None:
    """Fold every entry of ``partitions`` into ``audit``, in log order."""
    for entry in _entries(read_committed(bootstrap, topic, partitions, on_batch)):
        audit.add_entry(entry)


def _compare_scoped(audit: LedgerAudit, source: str, mine: dict[BalanceKey, FoldedBalance],
                    theirs: dict[BalanceKey, FoldedBalance]) -> None:
    scoped = LedgerAudit(audit.normal_types, {})
    scoped.balances = mine
    scoped.compare(source, theirs)
    audit.violations.extend(scoped.violations)


def _position(message: Any) -> Position:
    return Position(message.topic(), message.partition(), message.offset())


def _entries(messages: Iterator[Any]) -> Iterator[AuditEntry]:
    schemas: dict[int, Any] = {}
    reader = fastavro.schemaless_reader
    for message in messages:
        data = message.value()
        version = data[1] << 8 | data[2]
        schema = schemas.get(version)
        if schema is None:
            schema = schemas[version] = codec().plain_schema("entry", version)
        record: Any = reader(io.BytesIO(data[3:]), schema, None)
        yield AuditEntry(record["entry_id"], record["transaction_id"], record["account_id"],
                         record["journal_id"], record["currency"], _LAYERS[record["layer"]],
                         _DIRECTIONS[record["direction"]], Decimal(record["units"]),
                         Position(message.topic(), message.partition(), message.offset()))


def _folded(record: dict[str, Any]) -> FoldedBalance:
    balance = FoldedBalance(version=record["version"])
    for index, name in enumerate(_LAYER_FIELDS):
        balance.dr[index] = Decimal(record[name]["dr_balance"])
        balance.cr[index] = Decimal(record[name]["cr_balance"])
    return balance


def _key(record: dict[str, Any]) -> BalanceKey:
    return (record["account_id"], record["journal_id"], record["currency"])


def _cdc_balances(bootstrap: str, topics: Topics, partitions: int
                  ) -> tuple[dict[BalanceKey, FoldedBalance], dict[BalanceKey, Position]]:
    latest: dict[BalanceKey, FoldedBalance] = {}
    positions: dict[BalanceKey, Position] = {}
    for message in read_committed(bootstrap, topics.balances, range(partitions)):
        record = codec().decode("balance", message.value())
        latest[_key(record)] = _folded(record)
        positions[_key(record)] = _position(message)
    return latest, positions


def _compare_state(audit: LedgerAudit, path: Path, balances_topic: str,
                   cdc_positions: dict[BalanceKey, Position]) -> None:
    """Compare one partition's stopped state with the replay, as far as the state reaches.

    The state is the image of the balances topic below its next offset. A processor that
    gave the partition up, or was stopped before catching up, leaves a state whose newest
    versions the topic has since superseded; it restores them before using it. So each
    balance is compared whose latest CDC record lies below that offset (all of them, for a
    current state), and any balance the CDC never wrote.
    """
    partition = int(path.name.removeprefix("partition-"))
    next_offsets, stored = read_stopped(path)
    reached = next_offsets.get(balances_topic, 0)
    covered = {key for key, position in cdc_positions.items()
               if position.partition == partition and position.offset < reached}
    state = {}
    for value in stored.values():
        record = codec().decode("balance", value)
        key = _key(record)
        if key in covered or key not in cdc_positions:
            state[key] = _folded(record)
    mine = {key: balance for key, balance in audit.balances.items() if key in covered}
    _compare_scoped(audit, "state", mine, state)


def balance_as_of(bootstrap: str, topics: Topics, partitions: int, account_id: uuid.UUID,
                  offset: int | None = None, at: datetime | None = None
                  ) -> dict[tuple[str, str], FoldedBalance]:
    """An account's balances from its entries up to an offset of its entries partition
    (inclusive) or a time (entries created at or before it), per (journal, currency)."""
    partition = owner_partition(account_id, partitions)
    wanted = str(account_id)
    folded: dict[tuple[str, str], FoldedBalance] = {}
    keep: Callable[[Any, dict[str, Any]], bool] = (
        (lambda m, r: m.offset() <= offset) if offset is not None
        else (lambda m, r: at is None or r["created"] <= at))
    for message in read_committed(bootstrap, topics.entries, [partition]):
        record = codec().decode("entry", message.value())
        if not keep(message, record):
            if offset is not None:
                break
            continue
        if record["account_id"] != wanted:
            continue
        balance = folded.setdefault((record["journal_id"], record["currency"]), FoldedBalance())
        index = _LAYER_FIELDS.index(record["layer"].lower())
        side = balance.dr if record["direction"] == "DEBIT" else balance.cr
        side[index] += Decimal(record["units"])
        balance.version += 1
    return folded
