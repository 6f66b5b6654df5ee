"""The exactly-once posting processor: one loop on confluent-kafka per process.

Each turn of the loop is one Kafka transaction:

1. consume a batch (up to ``batch_max`` records or ``batch_timeout_s``) from the commands,
   legs and catalog-commands partitions this process owns;
2. decide every record with ``ledger_core`` against RocksDB state plus the batch's own
   staged writes, and produce the outputs (entries, legs, balances, transactions, results,
   catalog records, dead letters) inside the transaction;
3. send the consumed offsets with the consumer group metadata and commit;
4. only then write the staged state and the changelog offsets to RocksDB, one WriteBatch per
   partition.

A crash before 3 loses nothing (the transaction aborts, input is re-read); a crash between 3
and 4 leaves the state behind Kafka, and the next start restores it from the changelogs.
Rebalance callbacks run inside ``consume``, between transactions, so no batch is ever open
when partitions are revoked or lost.
"""

import logging
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from confluent_kafka import (
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    Producer,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient

from streams.catalog import CatalogReader
from streams.catalog_commands import CatalogDesk
from streams.errors import LedgerError
from streams.id_registry import IdRegistry
from streams.outputs import Output, Quarantined, dead_letter
from streams.partition_task import PartitionTask
from streams.restore import restore
from streams.routing import BatchMarks, Router
from streams.state import BALANCE, HOLDER, TRANSACTION, PartitionState, StateIdentity
from streams.topics import Topics, ensure_topics, record_bytes_max

log = logging.getLogger(__name__)

# How long a transactional call is retried while it fails retriably (a broker restarting).
RETRY_FOR_S = 120.0
# librdkafka's default message.max.bytes: no record may be larger, whatever the topic takes.
PRODUCER_MESSAGE_BYTES_MAX = 1_000_000


@dataclass(frozen=True)
class ProcessorConfig:
    """How one processor process runs."""

    bootstrap: str
    topics: Topics
    state_dir: Path
    instance_id: str
    batch_max: int = 500
    batch_timeout_s: float = 0.01
    transaction_timeout_ms: int = 10_000
    session_timeout_ms: int = 10_000
    replication: int | None = None

    @property
    def group_id(self) -> str:
        """The consumer group every processor of this ledger joins."""
        return self.topics.processor_group

    @property
    def transactional_id(self) -> str:
        """Stable per instance, so a restart fences its own dangling transaction at once."""
        return f"{self.topics.prefix}.processor.{self.instance_id}"


@dataclass
class _Batch:
    """Bookkeeping of the open transaction."""

    changelog_next: dict[tuple[str, int], int] = field(default_factory=dict)
    marks: BatchMarks = field(default_factory=BatchMarks)
    delivery_error: KafkaError | None = None


class Processor:
    """Owns partitions of the commands and legs topics and processes them exactly once."""

    def __init__(self, config: ProcessorConfig) -> None:
        self.config = config
        self.topics = config.topics
        self.tasks: dict[int, PartitionTask] = {}
        self.restored: dict[int, int] = {}
        self._stopping = False
        self._batch = _Batch()
        self._committed: dict[tuple[str, int], int] = {}
        self._cluster_id = ""
        self._quarantined: list[Quarantined] = []
        self._reported: dict[str, int] = {}
        self.catalog: CatalogReader | None = None
        self.desk: CatalogDesk | None = None
        self.router: Router | None = None
        self.registry = IdRegistry(self.topics, self.tasks)
        self.producer: Producer | None = None
        self.consumer: Consumer | None = None

    # Lifecycle -----------------------------------------------------------------------

    def start(self) -> None:
        """Create or check the topics, fence earlier transactions, read the catalog, subscribe."""
        admin = AdminClient({"bootstrap.servers": self.config.bootstrap})
        ensure_topics(admin, self.topics, self.config.replication)
        self._cluster_id = admin.describe_cluster(request_timeout=15).result().cluster_id or ""
        self.catalog = CatalogReader(self.config.bootstrap, self.topics.catalog)
        self.catalog.catch_up()
        self.desk = CatalogDesk(self.topics, self.catalog)
        self.router = Router(self.topics, self.tasks, self.catalog, self.desk, self.registry,
                             self._record_bytes_max(admin))
        self.producer = Producer({
            "bootstrap.servers": self.config.bootstrap,
            "transactional.id": self.config.transactional_id,
            "transaction.timeout.ms": self.config.transaction_timeout_ms,
            "linger.ms": 2, "compression.type": "lz4",
            "queue.buffering.max.messages": 1_000_000,
        })
        self._call(self.producer.init_transactions, 60)
        self.consumer = Consumer({
            "bootstrap.servers": self.config.bootstrap, "group.id": self.config.group_id,
            "group.instance.id": self.config.instance_id,
            "isolation.level": "read_committed", "enable.auto.commit": False,
            "auto.offset.reset": "earliest", "partition.assignment.strategy": "range",
            "session.timeout.ms": self.config.session_timeout_ms,
            "heartbeat.interval.ms": max(1000, self.config.session_timeout_ms // 5),
            "max.poll.interval.ms": 600_000, "enable.partition.eof": False,
        })
        self.consumer.subscribe(
            [self.topics.commands, self.topics.legs, self.topics.catalog_commands,
             self.topics.id_claims],
            on_assign=self._on_assign, on_revoke=self._on_revoke, on_lost=self._on_lost,
        )

    def _record_bytes_max(self, admin: AdminClient) -> dict[str, int]:
        """The largest record each output topic takes: its own limit, and the producer's."""
        outputs = [spec.name for spec in self.topics.specs()]
        return {topic: min(limit, PRODUCER_MESSAGE_BYTES_MAX)
                for topic, limit in record_bytes_max(admin, outputs).items()}

    def run(self, install_signals: bool = True, stop_after_s: float | None = None) -> None:
        """Process until SIGTERM/SIGINT (or ``stop_after_s``), then shut down cleanly."""
        if install_signals:
            signal.signal(signal.SIGTERM, self._request_stop)
            signal.signal(signal.SIGINT, self._request_stop)
        if self.consumer is None:
            self.start()
        deadline = None if stop_after_s is None else time.monotonic() + stop_after_s
        try:
            while not self._stopping and (deadline is None or time.monotonic() < deadline):
                self.step()
        finally:
            self.close()

    def step(self) -> int:
        """Consume and process one batch in one transaction; return how many records."""
        assert self.consumer is not None and self.catalog is not None
        self.catalog.refresh()
        self._quarantined.extend(self.catalog.take_quarantined())
        ready = self.registry.ready()
        if ready:
            log.info("partitions %s go on after the id registry answered", ready)
            self.consumer.resume([TopicPartition(self.topics.commands, p) for p in ready])
        messages = self.consumer.consume(self.config.batch_max, self.config.batch_timeout_s)
        messages = [m for m in messages if not self._is_event(m)]
        if messages or self._quarantined:
            self._process(messages)
        elif self._positions_moved():
            # Skipped transaction markers and aborted records move the position without a
            # record to process; committing it keeps the group's lag an honest zero.
            self._process([])
        return len(messages)

    def _positions(self) -> dict[tuple[str, int], int]:
        assert self.consumer is not None
        positions = {(tp.topic, tp.partition): tp.offset
                     for tp in self.consumer.position(self.consumer.assignment())
                     if tp.offset >= 0}
        # A partition stopped at a command that waits for the registry commits up to it.
        for partition, (_transaction_id, offset) in self._batch.marks.blocked.items():
            positions[(self.topics.commands, partition)] = offset
        return positions

    def _positions_moved(self) -> bool:
        return any(self._committed.get(key) != offset
                   for key, offset in self._positions().items())

    def _request_stop(self, signum: int, frame: FrameType | None) -> None:
        self._stopping = True

    def stop(self) -> None:
        """Ask the loop to finish its current batch and stop."""
        self._stopping = True

    def close(self) -> None:
        """Leave the group and close every store (no batch is open between steps)."""
        if self.consumer is not None:
            self.consumer.close()
            self.consumer = None
        for task in self.tasks.values():
            task.store.close()
        self.tasks.clear()
        if self.catalog is not None:
            self.catalog.close()
        if self.producer is not None:
            self.producer.flush(10)

    # Rebalances ----------------------------------------------------------------------

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        assert self.catalog is not None
        for tp in partitions:
            if tp.topic == self.topics.commands and tp.partition not in self.tasks:
                self.tasks[tp.partition] = self._open_task(tp.partition)
        # A partition paused for the registry before a rebalance starts over from its
        # committed offset, and asks again if it must: it is never left paused.
        consumer.resume(partitions)
        log.info("assigned %s", sorted((tp.topic, tp.partition) for tp in partitions))

    def _open_task(self, partition: int) -> PartitionTask:
        assert self.catalog is not None
        identity = StateIdentity(self._cluster_id, self.topics.prefix, self.topics.partitions,
                                 partition)
        store = PartitionState(self.config.state_dir / f"partition-{partition}", identity)
        count = restore(self.config.bootstrap, store,
                        {self.topics.balances: BALANCE, self.topics.transactions: TRANSACTION,
                         self.topics.transaction_ids: HOLDER},
                        partition, self._quarantined)
        self.restored[partition] = self.restored.get(partition, 0) + count
        log.info("partition %d: restored %d state records from Kafka", partition, count)
        return PartitionTask(partition, self.topics.partitions, store, self.catalog.table)

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        # Called from consume(): the previous batch is committed and no transaction is open.
        self._close_tasks(partitions)

    def _on_lost(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        # Same as revoke: nothing is uncommitted here, and the new owner restores from Kafka.
        self._close_tasks(partitions)

    def _close_tasks(self, partitions: list[TopicPartition]) -> None:
        closed = [tp.partition for tp in partitions
                  if tp.topic == self.topics.commands and tp.partition in self.tasks]
        for partition in closed:
            self.tasks.pop(partition).store.close()
        self.registry.forget_partitions(closed)

    # One batch -----------------------------------------------------------------------

    def _process(self, messages: list[Message]) -> None:
        assert self.producer is not None and self.consumer is not None
        now = datetime.now(UTC)
        self._batch = _Batch()
        try:
            self.producer.begin_transaction()
            self._write_quarantined(now)
            self._route(messages, now)
            # Delivery reports carry the changelog offsets and any delivery failure.
            self.producer.flush(60)
            if self._batch.delivery_error is not None:
                raise KafkaException(self._batch.delivery_error)
            # The consumer's position, not the last offset + 1: it has skipped the markers
            # and aborted records that follow, which the group must not count as lag.
            positions = self._positions()
            offsets = [TopicPartition(t, p, o) for (t, p), o in positions.items()]
            self.producer.send_offsets_to_transaction(
                offsets, self.consumer.consumer_group_metadata(), 30)
            self._commit()
        except KafkaException as exc:
            self._fail_batch(exc)
            return
        self._committed.update(positions)
        self._write_state()
        self._stop_blocked()
        self._report_counts()

    def _commit(self) -> None:
        assert self.producer is not None
        _retrying(lambda: self.producer.commit_transaction(60))  # type: ignore[union-attr]

    def _fail_batch(self, exc: KafkaException) -> None:
        """Abort and re-read the batch; only a fatal error (fenced, unrecoverable) stops us."""
        assert self.producer is not None
        error: KafkaError = exc.args[0]
        for task in self.tasks.values():
            task.discard_pending()
        if self.desk is not None:
            self.desk.discard_pending()
        self.registry.discard_pending()
        if error.fatal():
            raise LedgerError(f"fatal Kafka error, the processor stops: {error}") from exc
        log.warning("aborting the batch after %s; rewinding to the committed offsets", error)
        try:
            _retrying(lambda: self.producer.abort_transaction(60))  # type: ignore[union-attr]
            _retrying(self._rewind)
        except KafkaException as again:
            raise LedgerError(f"could not abort the batch, the processor stops: "
                              f"{again.args[0]}") from again

    def _rewind(self) -> None:
        assert self.consumer is not None
        self._committed.clear()
        assignment = self.consumer.assignment()
        for tp in self.consumer.committed(assignment, timeout=30):
            offset = tp.offset if tp.offset >= 0 else 0
            self.consumer.seek(TopicPartition(tp.topic, tp.partition, offset))

    def _write_state(self) -> None:
        for partition, task in self.tasks.items():
            next_offsets = {topic: offset for (topic, p), offset
                            in self._batch.changelog_next.items() if p == partition}
            pending = task.take_pending()
            if pending or next_offsets:
                task.store.write(pending, next_offsets)
        if self.desk is not None:
            self.desk.committed()

    def _stop_blocked(self) -> None:
        """Stop each partition at the command that waits for the registry, until it answers."""
        assert self.consumer is not None
        for partition, (transaction_id, offset) in self._batch.marks.blocked.items():
            stopped = TopicPartition(self.topics.commands, partition, offset)
            self.consumer.seek(stopped)
            self.consumer.pause([stopped])
            self.registry.wait(partition, transaction_id, offset)
            log.info("partition %d waits at offset %d for the id registry to answer for %s",
                     partition, offset, transaction_id)

    def _report_counts(self) -> None:
        """Log the records answered with a runtime code or quarantined, when they change."""
        assert self.router is not None
        counts = dict(self.router.counts)
        if counts != self._reported:
            self._reported = counts
            log.warning("records refused or quarantined so far, by rule: %s",
                        ", ".join(f"{code}={n}" for code, n in sorted(counts.items())))

    def _write_quarantined(self, now: datetime) -> None:
        """Records found outside a transaction (catalog, restore) go to dead-letters now;
        a catalog record only by the desk's owner, so one process reports it."""
        found, self._quarantined = self._quarantined, []
        if not found:
            return
        assert self.consumer is not None
        owns_desk = any(tp.topic == self.topics.catalog_commands
                        for tp in self.consumer.assignment())
        assert self.router is not None
        for record in found:
            if record.source.topic == self.topics.catalog and not owns_desk:
                continue
            self.router.counts[record.code.value] += 1
            self._produce(dead_letter(self.topics, record.source, record.key, record.value,
                                      record.error, now, record.code))

    # Routing -------------------------------------------------------------------------

    def _route(self, messages: list[Message], now: datetime) -> None:
        """Registry messages first (a command of the batch may be waiting for an answer),
        then catalog commands and legs, then each partition's commands as one batch."""
        assert self.router is not None
        commands: dict[int, list[Message]] = {}
        others: list[Message] = []
        for message in messages:
            if message.topic() == self.topics.commands:
                commands.setdefault(message.partition() or 0, []).append(message)
            else:
                others.append(message)
        claims = self.topics.id_claims
        for message in sorted(others, key=lambda m: m.topic() != claims):
            for output in self.router.route(message, now, self._batch.marks):
                self._produce(output)
        for partition_commands in commands.values():
            for output in self.router.route_commands(partition_commands, now,
                                                     self._batch.marks):
                self._produce(output)

    def _produce(self, output: Output) -> None:
        assert self.producer is not None
        # Only changelog records need a report (their offsets go into RocksDB); any failed
        # delivery also puts the transaction in an abortable state, so the commit fails.
        callback = self._changelog_delivered if output.changelog else None
        while True:
            try:
                self.producer.produce(output.topic, output.value, output.key,
                                      partition=output.partition, on_delivery=callback)
                return
            except BufferError:
                self.producer.poll(0.05)

    def _changelog_delivered(self, error: KafkaError | None, message: Message) -> None:
        if error is not None:
            self._batch.delivery_error = error
            return
        key = (message.topic() or "", message.partition() or 0)
        offset = (message.offset() or 0) + 1
        if offset > self._batch.changelog_next.get(key, 0):
            self._batch.changelog_next[key] = offset

    # Helpers -------------------------------------------------------------------------

    def _is_event(self, message: Message) -> bool:
        error = message.error()
        if error is None:
            return False
        if error.fatal():
            raise LedgerError(f"fatal consumer error: {error}")
        log.warning("consumer: %s", error)
        return True

    def _call(self, function: Any, *args: Any) -> Any:
        try:
            return function(*args)
        except KafkaException as exc:
            raise LedgerError(f"Kafka refused {function.__name__}: {exc.args[0]}") from exc


def _retrying(call: Callable[[], object], retry_for_s: float = RETRY_FOR_S) -> None:
    """Run ``call``, retrying while it fails with a retriable Kafka error."""
    deadline = time.monotonic() + retry_for_s
    delay = 0.1
    while True:
        try:
            call()
            return
        except KafkaException as exc:
            error: KafkaError = exc.args[0]
            if not error.retriable() or error.fatal() or time.monotonic() > deadline:
                raise
            log.warning("retrying after %s", error)
            time.sleep(delay)
            delay = min(delay * 2, 2.0)
