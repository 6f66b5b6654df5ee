"""The sink's loop: read the ledger's output topics from where the files end, write them.

The sink does not join a consumer group for its positions: it assigns every partition of
``entries``, ``transactions`` and ``balances`` itself, at the offset after the highest end
offset on disk (``Store.recover``). After each flush it commits that position to the group
``<prefix>.parquet-sink``, for monitoring (consumer lag) only; it never reads it back. One
sink runs per warehouse.
"""

import logging
import threading
import time
import uuid
from dataclasses import dataclass

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, TopicPartition

from connectors.parquet_sink.buffer import PartitionBuffer, RollPolicy
from connectors.parquet_sink.columns import BALANCES, ENTRIES, QUARANTINE, TRANSACTIONS, Entity
from connectors.parquet_sink.metrics import ParquetMetrics
from connectors.parquet_sink.store import Store
from streams.errors import LedgerError
from streams.kafka_config import kafka_config
from streams.observability import Readiness
from streams.offsets import end_offset
from streams.topics import Topics

log = logging.getLogger(__name__)
CONSUME_BATCH = 10_000


@dataclass(frozen=True)
class SinkStats:
    """What one run of the sink did."""

    records: int
    flushes: int
    files: int
    seconds: float


class ParquetSink:
    """Writes the ledger's entries, transactions and balance versions as Parquet files."""

    def __init__(self, bootstrap: str, topics: Topics, out: str,
                 policy: RollPolicy | None = None, metrics: ParquetMetrics | None = None,
                 readiness: Readiness | None = None) -> None:
        self.bootstrap = bootstrap
        self.metrics = metrics
        self.readiness = readiness
        self.topics = topics
        self.store = Store(out)
        self.policy = policy or RollPolicy()
        self._entities: dict[str, Entity] = {topics.entries: ENTRIES,
                                             topics.transactions: TRANSACTIONS,
                                             topics.balances: BALANCES}
        self._consumer = Consumer(kafka_config(bootstrap, {
            "group.id": f"{topics.prefix}.parquet-sink",
            "client.id": f"parquet-sink-{uuid.uuid4().hex[:8]}",
            "isolation.level": "read_committed", "enable.auto.commit": False,
            # A position the topic does not hold is an error, never a silent re-read.
            "auto.offset.reset": "error", "fetch.max.bytes": 64 * 1024 * 1024,
            "fetch.wait.max.ms": 100}))
        self._buffers: dict[tuple[str, int], PartitionBuffer] = {}
        self.flushes = self.files = self.records = 0

    def _partitions(self, topic: str) -> int:
        try:
            metadata = self._consumer.list_topics(topic, timeout=15)
        except KafkaException as exc:
            raise LedgerError(f"cannot reach Kafka at {self.bootstrap}: {exc}") from exc
        found = metadata.topics.get(topic)
        if found is None or found.error is not None or not found.partitions:
            raise LedgerError(f"topic {topic} does not exist: start a processor "
                              "(`ledger processor run`) to create the ledger's topics")
        return len(found.partitions)

    def _assign(self) -> dict[tuple[str, int], int]:
        resume = self.store.recover()
        assignment = []
        for topic, entity in self._entities.items():
            for partition in range(self._partitions(topic)):
                offset = resume.get((topic, partition), OFFSET_BEGINNING)
                if offset > 0 and offset > end_offset(self._consumer, topic, partition):
                    raise LedgerError(
                        f"{self.store.root} holds {topic}[{partition}] up to offset "
                        f"{offset - 1}, beyond the topic's end: it was written from another "
                        "topic of that name; give the sink a new --out")
                self._buffers[(topic, partition)] = PartitionBuffer(topic, partition, entity)
                assignment.append(TopicPartition(topic, partition, offset))
        self._consumer.assign(assignment)
        log.info("assigned %s", ", ".join(f"{tp.topic}[{tp.partition}]@{tp.offset}"
                                           for tp in assignment))
        return {(tp.topic, tp.partition): tp.offset for tp in assignment}

    def run(self, stop: threading.Event | None = None, until_end: bool = False) -> SinkStats:
        """Write until ``stop`` is set (then flush what is held) or, with ``until_end``, until
        every partition is written up to its end as of the start."""
        started = time.monotonic()
        if self.readiness is not None:
            self.readiness.block("warehouse", "recovering the warehouse and assigning")
        positions = self._assign()
        if self.readiness is not None:
            self.readiness.clear("warehouse")
        ends = {}
        if until_end:
            # A partition that is empty or already written to its end is not waited for:
            # the consumer has no position on it until it reads a record.
            ends = {key: end for key in positions
                    if (end := end_offset(self._consumer, *key)) > max(positions[key], 0)}
        try:
            while not (stop is not None and stop.is_set()):
                messages = self._consumer.consume(CONSUME_BATCH, timeout=0.2)
                now = time.monotonic()
                for message in messages:
                    error = message.error()
                    if error is not None:
                        if error.fatal() or error.code() == KafkaError._AUTO_OFFSET_RESET:
                            raise LedgerError(f"the sink's consumer failed: {error}")
                        log.warning("consumer: %s", error)
                        continue
                    topic, partition = message.topic(), message.partition()
                    assert topic is not None and partition is not None, "a record has both"
                    buffer = self._buffers[(topic, partition)]
                    buffer.add(message, now)
                    if buffer.records >= self.policy.max_records:
                        self._flush(buffer)
                self.records += len(messages)
                for buffer in self._buffers.values():
                    if self.policy.due(buffer.records, buffer.opened_at, now):
                        self._flush(buffer)
                if until_end and self._reached(ends):
                    break
            self.flush_all()
        finally:
            self._consumer.close()
        return SinkStats(self.records, self.flushes, self.files, time.monotonic() - started)

    def _reached(self, ends: dict[tuple[str, int], int]) -> bool:
        if ends:
            positions = self._consumer.position([TopicPartition(t, p) for t, p in ends])
            for tp in positions:
                if tp.offset >= ends[(tp.topic, tp.partition)]:
                    del ends[(tp.topic, tp.partition)]
        return not ends

    def flush_all(self) -> None:
        """Write every partition's held records."""
        for buffer in self._buffers.values():
            if buffer.records:
                self._flush(buffer)

    def _flush(self, buffer: PartitionBuffer) -> None:
        began = time.monotonic()
        files = buffer.files()
        self.store.write(files)
        self.flushes += 1
        self.files += len(files)
        if self.metrics is not None:
            self.metrics.flush_seconds.observe(time.monotonic() - began)
            self.metrics.records.labels(buffer.topic).inc(buffer.records)
            for file, table in files:
                self.metrics.files.labels(file.entity).inc()
                if file.entity == QUARANTINE.name:
                    self.metrics.quarantined.labels(buffer.topic).inc(table.num_rows)
        if any(file.entity == QUARANTINE.name for file, _table in files):
            log.warning("%s[%d] %d..%d: quarantined records (see the quarantine view)",
                        buffer.topic, buffer.partition, buffer.start, buffer.end)
        committed = TopicPartition(buffer.topic, buffer.partition, buffer.end + 1)
        buffer.clear()
        try:
            self._consumer.commit(offsets=[committed], asynchronous=True)
        except KafkaException as exc:  # monitoring only: the files are the positions
            log.debug("offset commit for monitoring failed: %s", exc)
