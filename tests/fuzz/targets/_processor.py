"""The processor's real objects without Kafka, for the ``command`` and ``catalog`` targets.

``ledger(...)`` builds what ``streams.processor.Processor`` builds once it holds partitions:
a ``streams.routing.Router`` over real ``PartitionTask``s (each on a real RocksDB
``PartitionState`` in a temporary directory), a real ``IdRegistry`` over the same tasks and
a real ``CatalogDesk``. Only the ``CatalogReader`` is a stand-in (``StandInReader``): the real
one reads the catalog topic, so the stand-in holds the preloaded table and reads nothing.

A fuzz input is a message routed with ``Ledger.route``, exactly as the processor routes
each record of a batch; ``Ledger.discard_pending`` then forgets what the input staged, as
an aborted batch does, so every input meets the state as it was preloaded.

``Router.route`` contains any exception of a handler: it logs it and answers the record
``processing_failed``. That keeps a processor running in production, but for fuzzing it is
the rules missing an input, or a defect, so ``Ledger.route`` re-raises the contained
exception (with a note saying it was contained) and the input is a finding. Nothing here
decides anything itself; ``check_outputs`` only decodes what the router returned.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

from confluent_kafka import Message

from ledger_core import (
    Direction,
    PostedTransaction,
    PostTransaction,
    RejectionCode,
    VoidTransaction,
)
from ledger_core.catalog import Catalog, CatalogEntity
from schemas import mapping
from schemas.codec import codec
from streams import routing
from streams.catalog import CatalogReader
from streams.catalog_commands import CatalogDesk
from streams.id_registry import IdRegistry
from streams.outputs import Output, Quarantined
from streams.partition_task import PartitionTask
from streams.routing import BatchMarks, Router
from streams.state import PartitionState, StateIdentity
from streams.topics import Topics
from tests.fuzz.targets import FindingError

__all__ = ["RECORD_BYTES_MAX", "FuzzMessage", "Ledger", "StandInReader", "check_outputs",
           "check_posted", "ledger"]

# Every topic accepts records of up to this many bytes (the producer's own limit).
RECORD_BYTES_MAX = 1_000_000
# The state directories, in the temporary directory: this prefix, the process id, a suffix.
STATE_PREFIX = "ledger-fuzz-state-"


class StandInReader:
    """What the router and the desk use of a ``CatalogReader``, without Kafka: the table,
    and reads of the catalog topic that find nothing new."""

    def __init__(self, table: Catalog) -> None:
        self.table = table

    def catch_up(self, stall_s: float = 0.0) -> int:
        """The topic has nothing past the preloaded table."""
        return 0

    def refresh(self) -> int:
        """Nothing has arrived."""
        return 0

    def take_quarantined(self) -> list[Quarantined]:
        """No catalog record was skipped."""
        return []


class FuzzMessage:
    """A consumed record, as much of ``confluent_kafka.Message`` as the router reads."""

    def __init__(self, topic: str, partition: int, offset: int, key: bytes | None,
                 value: bytes | None) -> None:
        self._topic, self._partition, self._offset = topic, partition, offset
        self._key, self._value = key, value

    def topic(self) -> str:
        """The topic the record was read from."""
        return self._topic

    def partition(self) -> int:
        """Its partition."""
        return self._partition

    def offset(self) -> int:
        """Its offset."""
        return self._offset

    def key(self) -> bytes | None:
        """Its key."""
        return self._key

    def value(self) -> bytes | None:
        """Its value."""
        return self._value

    def error(self) -> None:
        """Consumed records carry no error."""
        return None


class _Contained(logging.Handler):
    """Keeps the exceptions ``Router.route`` contains (it logs each with its traceback)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.errors: list[BaseException] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info is not None and record.exc_info[1] is not None:
            self.errors.append(record.exc_info[1])


@contextmanager
def _watching_containment() -> Iterator[_Contained]:
    logger = logging.getLogger(routing.__name__)
    handler = _Contained()
    level, propagate = logger.level, logger.propagate
    logger.setLevel(logging.ERROR)
    logger.propagate = False
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate


@dataclass
class Ledger:
    """A processor holding every partition of a ledger, without Kafka."""

    topics: Topics
    reader: StandInReader
    tasks: dict[int, PartitionTask]
    registry: IdRegistry
    desk: CatalogDesk
    router: Router

    def route(self, message: FuzzMessage, now: datetime,
              marks: BatchMarks | None = None) -> list[Output]:
        """``Router.route`` for one record (``route_commands`` for a command); a failure it
        contained is raised again."""
        counted = self.router.counts[RejectionCode.PROCESSING_FAILED.value]
        routed = cast(Message, message)
        with _watching_containment() as contained:
            if message.topic() == self.topics.commands:
                outputs = self.router.route_commands([routed], now, marks or BatchMarks())
            else:
                outputs = self.router.route(routed, now, marks or BatchMarks())
        if contained.errors:
            error = contained.errors[-1]
            error.add_note(f"Router.route contained this {type(error).__name__} and answered "
                           f"the {message.topic()} record processing_failed: an input the "
                           "ledger's rules missed, or a defect (a fuzzing finding)")
            raise error
        if self.router.counts[RejectionCode.PROCESSING_FAILED.value] != counted:
            raise FindingError(f"Router.route answered the {message.topic()} record "
                               "processing_failed (a contained failure it did not log)")
        return outputs

    def discard_pending(self) -> None:
        """Forget what the last input staged, as an aborted batch does."""
        for task in self.tasks.values():
            task.discard_pending()
        self.desk.discard_pending()
        self.registry.discard_pending()

    def commit(self) -> None:
        """Make what was staged committed state, as the processor does after a commit."""
        for task in self.tasks.values():
            task.store.write(task.take_pending(), {})
        self.desk.committed()
        self.registry.discard_pending()


def ledger(topics: Topics, entities: Iterable[CatalogEntity],
           postings: Sequence[PostTransaction | VoidTransaction], now: datetime,
           sent_at: datetime, state: bool = True) -> Ledger:
    """A ledger holding ``entities`` in its catalog and ``postings`` posted (through the
    router and committed). ``state`` gives it a partition task on RocksDB for each commands
    partition; without it the ledger holds no partition (enough for catalog commands)."""
    table = Catalog()
    for entity in entities:
        table.put(entity)
    reader = StandInReader(table)
    tasks: dict[int, PartitionTask] = {}
    if state:
        directory = _state_directory()
        for partition in range(topics.partitions):
            identity = StateIdentity("fuzz", topics.prefix, topics.partitions, partition)
            store = PartitionState(directory / f"partition-{partition}", identity)
            tasks[partition] = PartitionTask(partition, topics.partitions, store, table)
        atexit.register(_remove, tasks, directory)
    registry = IdRegistry(topics, tasks)
    desk = CatalogDesk(topics, cast(CatalogReader, reader))
    router = Router(topics, tasks, cast(CatalogReader, reader), desk, registry,
                    {spec.name: RECORD_BYTES_MAX for spec in topics.specs()})
    built = Ledger(topics, reader, tasks, registry, desk, router)
    for number, posting in enumerate(postings):
        value = codec().encode("command", mapping.command_record(posting, f"preload-{number}",
                                                                 sent_at))
        outputs = built.route(FuzzMessage(topics.commands, 0, number, None, value), now)
        statuses = [codec().decode("result", o.value)["status"] for o in outputs
                    if o.topic == topics.results]
        assert statuses == ["POSTED"], f"preloading {posting.transaction_id}: {statuses}"
        built.commit()
    return built


def _state_directory() -> Path:
    """A new directory for this process's RocksDB state. libFuzzer ends a process without
    running ``atexit``, so the directories of processes that are gone are removed here."""
    base = Path(tempfile.gettempdir())
    if Path("/proc/self").is_dir():
        for stale in base.glob(f"{STATE_PREFIX}*"):
            pid = stale.name.removeprefix(STATE_PREFIX).split("-")[0]
            if pid.isdigit() and not Path("/proc", pid).exists():
                shutil.rmtree(stale, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f"{STATE_PREFIX}{os.getpid()}-", dir=base))


def _remove(tasks: dict[int, PartitionTask], directory: Path) -> None:
    for task in tasks.values():
        task.store.close()
    shutil.rmtree(directory, ignore_errors=True)


# -- what every output must be ------------------------------------------------------------


def _schemas(topics: Topics) -> dict[str, tuple[str | None, str]]:
    """The key and value schemas of each topic the processor writes (a dead letter's key is
    the source record's raw key)."""
    return {
        topics.entries: ("account_key", "entry"), topics.legs: ("account_key", "entry"),
        topics.balances: ("balance_key", "balance"),
        topics.transactions: ("transaction_key", "transaction"),
        topics.results: ("command_key", "result"),
        topics.catalog: ("catalog_key", "catalog_record"),
        topics.transaction_ids: ("transaction_key", "transaction_id"),
        topics.id_claims: ("transaction_key", "id_claim"),
        topics.dead_letters: (None, "dead_letter"),
    }


def check_outputs(topics: Topics, outputs: Sequence[Output]) -> list[dict[str, Any]]:
    """Check what the router returned for one record: bytes on a topic of the ledger, a
    partition of that topic, keys and values that decode with their topic's schemas, and
    exactly one answer (a result or a dead letter). Returns the decoded values, in order."""
    schemas = _schemas(topics)
    partitions = {spec.name: spec.partitions for spec in topics.specs()}
    decoded = []
    for output in outputs:
        if not isinstance(output.key, bytes) or not isinstance(output.value, bytes):
            raise FindingError(f"a {output.topic} output has a key of "
                               f"{type(output.key).__name__} and a value of "
                               f"{type(output.value).__name__}, not bytes")
        if output.topic not in schemas:
            raise FindingError(f"an output goes to {output.topic!r}, which the ledger does "
                               "not write")
        if not 0 <= output.partition < partitions[output.topic]:
            raise FindingError(f"an output goes to partition {output.partition} of "
                               f"{output.topic}, which has {partitions[output.topic]}")
        key_schema, value_schema = schemas[output.topic]
        if key_schema is not None:
            codec().decode(key_schema, output.key)
        decoded.append(codec().decode(value_schema, output.value))
    answers = [o.topic for o in outputs if o.topic in (topics.results, topics.dead_letters)]
    if len(answers) != 1:
        raise FindingError(f"a record got {len(answers)} answers ({answers}), not one")
    return decoded


def check_posted(posted: PostedTransaction) -> None:
    """A posted transaction numbers its entries 1..n, counts them, and balances per
    currency."""
    entries = posted.entries
    if [e.sequence for e in entries] != list(range(1, len(entries) + 1)):
        raise FindingError(f"entry sequences {[e.sequence for e in entries]} are not 1..n")
    if posted.transaction.entry_count != len(entries):
        raise FindingError(f"entry_count {posted.transaction.entry_count} for {len(entries)} "
                           "entries")
    sums: dict[tuple[str, Direction], Decimal] = {}
    for entry in entries:
        key = (entry.currency, entry.direction)
        sums[key] = sums.get(key, Decimal(0)) + entry.units
    for currency in {currency for currency, _ in sums}:
        debit = sums.get((currency, Direction.DEBIT), Decimal(0))
        credit = sums.get((currency, Direction.CREDIT), Decimal(0))
        if debit != credit:
            raise FindingError(f"posted {currency} entries do not balance: {debit} != {credit}")
