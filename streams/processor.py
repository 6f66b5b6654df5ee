"""The exactly-once posting processor: one loop on confluent-kafka per process.

Each turn of the loop is one batch, committed as one Kafka transaction (``Checkpoint``):

1. consume a batch (up to ``batch_max`` records or ``batch_timeout_s``) from the commands,
   legs, catalog-commands and id-claims partitions this process owns;
2. decide every record (``streams.routing``): each partition's commands as one batch with
   ``ledger_core.decide_batch`` against RocksDB state plus the batch's own staged writes,
   and produce the outputs (entries, legs, balances, transactions, results, catalog
   records, id registry records, dead letters) inside the transaction;
3. send the consumed offsets with the consumer group metadata and commit;
4. only then write the staged state and the changelog offsets to RocksDB, one WriteBatch per
   partition.

A crash before 3 loses nothing (the transaction aborts, input is re-read); a crash between 3
and 4 leaves the state behind Kafka, and the next start restores it from the changelogs.
Rebalance callbacks run inside ``consume``, between transactions, so no batch is ever open
when partitions are revoked or lost.

``open_processor`` builds the Kafka clients, the catalog and the desk before the
``Processor``, which owns its partitions' lifecycle, rebalances and routing.
"""

import logging
import signal
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer, TopicPartition
from confluent_kafka.admin import AdminClient
from prometheus_client import CollectorRegistry

from streams.catalog import CatalogReader
from streams.catalog_commands import CatalogDesk
from streams.checkpoint import Checkpoint, exit_for_restart, guarded, retrying
from streams.errors import LedgerError
from streams.id_registry import IdRegistry
from streams.kafka_config import kafka_config
from streams.observability import Readiness
from streams.outputs import Quarantined, dead_letter
from streams.partition_task import PartitionTask
from streams.processor_metrics import ProcessorMetrics
from streams.restore import restore
from streams.routing import BatchMarks, Router
from streams.state import BALANCE, HOLDER, TRANSACTION, PartitionState, StateIdentity
from streams.topics import Topics, ensure_topics, record_bytes_max

log = logging.getLogger(__name__)

# librdkafka's default message.max.bytes: no record may be larger, whatever the topic takes.
PRODUCER_MESSAGE_BYTES_MAX = 1_000_000
# How long assigned partitions may go without a known position (their committed offsets
# not fetched): librdkafka's consumer, like its producer, can wait on a group coordinator
# forever after a broker restart (seen here: eleven minutes).
POSITIONS_UNKNOWN_S_MAX = 60.0
# How often the consumer lag metric is refreshed (from offsets the consumer already holds).
LAG_REFRESH_S = 1.0
# The readiness condition the processor's partitions hold (restoring, rebalancing).
READINESS = "partitions"


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


@dataclass(frozen=True)
class _Clients:
    """What a processor works with, built before it."""

    producer: Producer
    consumer: Consumer
    catalog: CatalogReader
    cluster_id: str
    record_bytes_max: dict[str, int]


def open_processor(config: ProcessorConfig, metrics: ProcessorMetrics | None = None,
                   readiness: Readiness | None = None) -> "Processor":
    """Create or check the topics, read the catalog, fence earlier transactions, and
    return the processor, subscribed to its topics, reporting to ``metrics`` and
    ``readiness`` (its own, unserved, when not given)."""
    readiness = readiness or Readiness()
    readiness.block(READINESS, "starting: checking the topics, reading the catalog")
    admin = AdminClient(kafka_config(config.bootstrap))
    ensure_topics(admin, config.topics, config.replication)
    cluster_id = admin.describe_cluster(request_timeout=15).result().cluster_id or ""
    limits = {topic: min(limit, PRODUCER_MESSAGE_BYTES_MAX) for topic, limit in
              record_bytes_max(admin, [spec.name for spec in config.topics.specs()]).items()}
    catalog = CatalogReader(config.bootstrap, config.topics.catalog)
    catalog.catch_up()
    producer = Producer(kafka_config(config.bootstrap, {
        "transactional.id": config.transactional_id,
        "transaction.timeout.ms": config.transaction_timeout_ms,
        "linger.ms": 2, "compression.type": "lz4",
        "queue.buffering.max.messages": 1_000_000,
    }))
    try:
        guarded("init_transactions", producer.init_transactions, 60)
    except KafkaException as exc:
        raise LedgerError(f"Kafka refused init_transactions: {exc.args[0]}") from exc
    consumer = Consumer(kafka_config(config.bootstrap, {
        "group.id": config.group_id,
        "group.instance.id": config.instance_id,
        "isolation.level": "read_committed", "enable.auto.commit": False,
        "auto.offset.reset": "earliest", "partition.assignment.strategy": "range",
        "session.timeout.ms": config.session_timeout_ms,
        "heartbeat.interval.ms": max(1000, config.session_timeout_ms // 5),
        "max.poll.interval.ms": 600_000, "enable.partition.eof": False,
    }))
    return Processor(config, _Clients(producer, consumer, catalog, cluster_id, limits),
                     metrics or ProcessorMetrics(CollectorRegistry()), readiness)


class Processor:
    """Owns partitions of the commands and legs topics and processes them exactly once."""

    def __init__(self, config: ProcessorConfig, clients: _Clients, metrics: ProcessorMetrics,
                 readiness: Readiness) -> None:
        self.config = config
        self.metrics = metrics
        self.readiness = readiness
        readiness.block(READINESS, "waiting for the first partition assignment")
        self.topics = config.topics
        self.producer = clients.producer
        self.consumer = clients.consumer
        self.catalog = clients.catalog
        self._cluster_id = clients.cluster_id
        self.tasks: dict[int, PartitionTask] = {}
        self.restored: dict[int, int] = {}
        self.desk = CatalogDesk(self.topics, self.catalog)
        self.registry = IdRegistry(self.topics, self.tasks)
        self.router = Router(self.topics, self.tasks, self.catalog, self.desk, self.registry,
                             clients.record_bytes_max)
        self._stopping = False
        self._positions_unknown_since: float | None = None
        self._marks = BatchMarks()
        self._committed: dict[tuple[str, int], int] = {}
        # Records restore left out (written by the next batch), and catalog records the
        # reader skipped (written by the owner of the catalog desk, which keeps them until
        # it is that owner: a restarted process reads them again before it holds the desk).
        self._quarantined: list[Quarantined] = []
        self._catalog_quarantine: list[Quarantined] = []
        self._writing: list[Quarantined] = []
        self._reported: dict[str, int] = {}
        self._lag_at = 0.0
        self.consumer.subscribe(
            [self.topics.commands, self.topics.legs, self.topics.catalog_commands,
             self.topics.id_claims],
            on_assign=self._on_assign, on_revoke=self._on_revoke, on_lost=self._on_lost,
        )

    # Lifecycle -----------------------------------------------------------------------

    def run(self, install_signals: bool = True, stop_after_s: float | None = None) -> None:
        """Process until SIGTERM/SIGINT (or ``stop_after_s``), then shut down cleanly."""
        if install_signals:
            signal.signal(signal.SIGTERM, self._request_stop)
            signal.signal(signal.SIGINT, self._request_stop)
        deadline = None if stop_after_s is None else time.monotonic() + stop_after_s
        try:
            while not self._stopping and (deadline is None or time.monotonic() < deadline):
                self.step()
        finally:
            self.close()

    def step(self) -> int:
        """Consume and process one batch in one transaction; return how many records."""
        self.catalog.refresh()
        self._catalog_quarantine.extend(self.catalog.take_quarantined())
        ready = self.registry.ready()
        if ready:
            log.info("partitions %s go on after the id registry answered", ready)
            self.consumer.resume([TopicPartition(self.topics.commands, p) for p in ready])
        messages = self.consumer.consume(self.config.batch_max, self.config.batch_timeout_s)
        messages = [m for m in messages if not self._is_event(m)]
        if not messages:
            self._check_positions_known()
        if time.monotonic() - self._lag_at >= LAG_REFRESH_S:
            self._measure_lag()
        if messages or self._quarantined or (self._catalog_quarantine and self._owns_desk()):
            self._process(messages)
        elif self._positions_moved():
            # Skipped transaction markers and aborted records move the position without a
            # record to process; committing it keeps the group's lag an honest zero.
            self._process([])
        return len(messages)

    def _check_positions_known(self) -> None:
        unknown = [tp for tp in self.consumer.position(self.consumer.assignment())
                   if tp.offset < 0 and self._high_watermark(tp) < 0]
        if not unknown:
            self._positions_unknown_since = None
            return
        now = time.monotonic()
        if self._positions_unknown_since is None:
            self._positions_unknown_since = now
        elif now - self._positions_unknown_since > POSITIONS_UNKNOWN_S_MAX:
            exit_for_restart(f"{len(unknown)} assigned partitions have had no position for "
                             f"{POSITIONS_UNKNOWN_S_MAX:.0f} s (their committed offsets were "
                             "never fetched)")

    def _measure_lag(self) -> None:
        """Each assigned partition's lag: its high watermark as the last fetch brought it,
        minus the position (no request to Kafka)."""
        self._lag_at = time.monotonic()
        lags = []
        for tp in self.consumer.position(self.consumer.assignment()):
            high = self._high_watermark(tp)
            if tp.offset >= 0 and high >= 0:
                lags.append((tp.topic, tp.partition, max(high - tp.offset, 0)))
            elif high == 0:
                lags.append((tp.topic, tp.partition, 0))  # an empty partition, being fetched
        self.metrics.lag(lags)

    def _high_watermark(self, tp: TopicPartition) -> int:
        """The partition's high watermark as its last fetch response gave it, -1 before any.

        A partition that has had no record and has no committed offset has no position
        (librdkafka reports the offset after the last record consumed); that it is being
        fetched at all shows that its committed offset was fetched.
        """
        marks = self.consumer.get_watermark_offsets(tp, cached=True)
        return -1 if marks is None else int(marks[1])

    def _request_stop(self, signum: int, frame: FrameType | None) -> None:
        self._stopping = True

    def stop(self) -> None:
        """Ask the loop to finish its current batch and stop."""
        self._stopping = True

    def close(self) -> None:
        """Leave the group and close every store (no batch is open between steps)."""
        self.readiness.block(READINESS, "stopping")
        self.consumer.close()
        for task in self.tasks.values():
            task.store.close()
        self.tasks.clear()
        self.catalog.close()
        self.producer.flush(10)

    # Rebalances ----------------------------------------------------------------------

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self.metrics.rebalances.inc()
        opening = sorted(tp.partition for tp in partitions
                         if tp.topic == self.topics.commands and tp.partition not in self.tasks)
        if opening:
            self.readiness.block(READINESS, f"restoring the state of partitions {opening}")
        for partition in opening:
            self.tasks[partition] = self._open_task(partition)
        # A partition paused for the registry before a rebalance starts over from its
        # committed offset, and asks again if it must: it is never left paused.
        consumer.resume(partitions)
        self.metrics.assigned_partitions.set(len(self.tasks))
        log.info("assigned %s", sorted((tp.topic, tp.partition) for tp in partitions))
        self.readiness.clear(READINESS)

    def _open_task(self, partition: int) -> PartitionTask:
        identity = StateIdentity(self._cluster_id, self.topics.prefix, self.topics.partitions,
                                 partition)
        store = PartitionState(self.config.state_dir / f"partition-{partition}", identity)
        count = restore(self.config.bootstrap, store,
                        {self.topics.balances: BALANCE, self.topics.transactions: TRANSACTION,
                         self.topics.transaction_ids: HOLDER},
                        partition, self._quarantined, self.metrics.restoring)
        self.restored[partition] = self.restored.get(partition, 0) + count
        log.info("partition %d: restored %d state records from Kafka", partition, count,
                 extra={"partition": partition, "restored": count})
        return PartitionTask(partition, self.topics.partitions, store, self.catalog.table)

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        # Called from consume(): the previous batch is committed and no transaction is open.
        self.readiness.block(READINESS, "rebalancing: partitions revoked, waiting for the "
                                        "new assignment")
        self._close_tasks(partitions)

    def _on_lost(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        # Same as revoke: nothing is uncommitted here, and the new owner restores from Kafka.
        self.readiness.block(READINESS, "rebalancing: partitions lost, waiting for the new "
                                        "assignment")
        self._close_tasks(partitions)

    def _close_tasks(self, partitions: list[TopicPartition]) -> None:
        closed = [tp.partition for tp in partitions
                  if tp.topic == self.topics.commands and tp.partition in self.tasks]
        for partition in closed:
            self.tasks.pop(partition).store.close()
        self.registry.forget_partitions(closed)
        self.metrics.assigned_partitions.set(len(self.tasks))

    # One batch -----------------------------------------------------------------------

    def _process(self, messages: list[Message]) -> None:
        started = time.perf_counter()
        now = datetime.now(UTC)
        self._marks = BatchMarks()
        checkpoint = Checkpoint(self.producer, self.consumer, self.tasks, self.desk)
        try:
            checkpoint.begin()
            self._write_quarantined(checkpoint, now)
            self._route(checkpoint, messages, now)
            positions = self._positions()
            checkpoint.commit([TopicPartition(t, p, o) for (t, p), o in positions.items()])
        except KafkaException as exc:
            self._fail_batch(checkpoint, exc)
            return
        self._committed.update(positions)
        self._writing = []
        self.metrics.batch_committed(self._processed(messages), checkpoint.answers,
                                     time.perf_counter() - started, checkpoint.commit_s)
        self._stop_blocked()
        self._report_counts()

    def _processed(self, messages: list[Message]) -> Counter[str]:
        """The batch's records by topic, without those of a partition stopped for the
        registry from the waiting command on: they are read and processed again."""
        blocked = self._marks.blocked
        if not blocked:
            return Counter(m.topic() or "" for m in messages)
        commands = self.topics.commands
        return Counter(m.topic() or "" for m in messages
                       if m.topic() != commands or m.partition() not in blocked
                       or (m.offset() or 0) < blocked[m.partition() or 0][1])

    def _route(self, checkpoint: Checkpoint, messages: list[Message], now: datetime) -> None:
        """Registry messages first (a command of the batch may be waiting for an answer),
        then catalog commands and legs, then each partition's commands as one batch."""
        commands: dict[int, list[Message]] = {}
        others: list[Message] = []
        for message in messages:
            if message.topic() == self.topics.commands:
                commands.setdefault(message.partition() or 0, []).append(message)
            else:
                others.append(message)
        claims = self.topics.id_claims
        for message in sorted(others, key=lambda m: m.topic() != claims):
            for output in self.router.route(message, now, self._marks):
                checkpoint.produce(output)
        for partition_commands in commands.values():
            for output in self.router.route_commands(partition_commands, now, self._marks):
                checkpoint.produce(output)

    def _positions(self) -> dict[tuple[str, int], int]:
        # The consumer's position, not the last offset + 1: it has skipped the markers and
        # aborted records that follow, which the group must not count as lag.
        positions = {(tp.topic, tp.partition): tp.offset
                     for tp in self.consumer.position(self.consumer.assignment())
                     if tp.offset >= 0}
        # A partition stopped at a command that waits for the registry commits up to it.
        for partition, (_transaction_id, offset) in self._marks.blocked.items():
            positions[(self.topics.commands, partition)] = offset
        return positions

    def _positions_moved(self) -> bool:
        return any(self._committed.get(key) != offset
                   for key, offset in self._positions().items())

    def _fail_batch(self, checkpoint: Checkpoint, exc: KafkaException) -> None:
        """Abort and re-read the batch; only a fatal error (fenced, unrecoverable) stops us."""
        error: KafkaError = exc.args[0]
        self.metrics.batches_aborted.inc()
        self.registry.discard_pending()
        self._quarantined, self._writing = self._writing + self._quarantined, []
        if error.fatal():
            raise LedgerError(f"fatal Kafka error, the processor stops: {error}") from exc
        log.warning("aborting the batch after %s; rewinding to the committed offsets", error)
        try:
            checkpoint.abort()
            retrying(self._rewind)
        except KafkaException as again:
            raise LedgerError(f"could not abort the batch, the processor stops: "
                              f"{again.args[0]}") from again

    def _rewind(self) -> None:
        self._committed.clear()
        assignment = self.consumer.assignment()
        for tp in self.consumer.committed(assignment, timeout=30):
            offset = tp.offset if tp.offset >= 0 else 0
            self.consumer.seek(TopicPartition(tp.topic, tp.partition, offset))

    def _stop_blocked(self) -> None:
        """Stop each partition at the command that waits for the registry, until it answers."""
        for partition, (transaction_id, offset) in self._marks.blocked.items():
            stopped = TopicPartition(self.topics.commands, partition, offset)
            self.consumer.seek(stopped)
            self.consumer.pause([stopped])
            self.registry.wait(partition, transaction_id, offset)
            log.info("partition %d waits at offset %d for the id registry to answer for %s",
                     partition, offset, transaction_id,
                     extra={"partition": partition, "offset": offset})

    def _report_counts(self) -> None:
        """Log the records answered with a runtime code or quarantined, when they change."""
        counts = dict(self.router.counts)
        if counts != self._reported:
            self._reported = counts
            log.warning("records refused or quarantined so far, by rule: %s",
                        ", ".join(f"{code}={n}" for code, n in sorted(counts.items())))

    def _write_quarantined(self, checkpoint: Checkpoint, now: datetime) -> None:
        """Records found outside a transaction go to dead-letters in this one: what restore
        left out at once, the catalog records the reader skipped once this process holds
        the catalog desk (so that one process reports them)."""
        found, self._quarantined = self._quarantined, []
        if self._catalog_quarantine and self._owns_desk():
            found += self._catalog_quarantine
            self._catalog_quarantine = []
        # Kept until the batch commits: an aborted batch writes them again.
        self._writing = found
        for record in found:
            self.router.counts[record.code.value] += 1
            checkpoint.produce(dead_letter(self.topics, record.source, record.key,
                                           record.value, record.error, now, record.code))

    def _owns_desk(self) -> bool:
        return any(tp.topic == self.topics.catalog_commands
                   for tp in self.consumer.assignment())

    def _is_event(self, message: Message) -> bool:
        error = message.error()
        if error is None:
            return False
        if error.fatal():
            raise LedgerError(f"fatal consumer error: {error}")
        log.warning("consumer: %s", error)
        return True
