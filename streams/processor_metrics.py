"""The processor's Prometheus metrics, named after Kafka Streams' where it has one.

Counters move once per committed batch, by what the batch carried, never once per record:
a prometheus-client increment costs about a microsecond, and the loop handles thousands of
records a second. What an aborted batch did is not counted (it is processed again).
``docs/operations.md`` describes every metric and what to alert on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from streams.outputs import DEAD_LETTER

__all__ = ["ProcessorMetrics"]

# Records per batch: the batch maximum defaults to 500.
BATCH_RECORDS_BUCKETS = (1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000)
# Commits take milliseconds on a healthy cluster and up to the call timeout on a sick one.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                   10.0, 30.0)


class ProcessorMetrics:
    """Every metric of one processor process, on ``registry``."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.records_processed = Counter(
            "ledger_processor_records_processed", "Input records processed in committed "
            "batches (Kafka Streams: process-total)", ["topic"], registry=registry)
        self.postings = Counter(
            "ledger_postings", "Results of posting commands (posts and voids) committed, by "
            "status and rejection code", ["status", "code"], registry=registry)
        self.dead_letters = Counter(
            "ledger_dead_letters", "Records written to the dead-letters topic (undecodable "
            "commands and quarantined records), by code", ["code"], registry=registry)
        self.batch_records = Histogram(
            "ledger_processor_batch_records", "Input records per committed batch",
            registry=registry, buckets=BATCH_RECORDS_BUCKETS)
        self.batch_latency = Histogram(
            "ledger_processor_batch_latency_seconds", "From a batch's first decision to its "
            "state written after the commit", registry=registry, buckets=LATENCY_BUCKETS)
        self.commit_latency = Histogram(
            "ledger_processor_commit_latency_seconds", "Committing a batch: flush, offsets, "
            "commit_transaction and the RocksDB write (Kafka Streams: commit-latency)",
            registry=registry, buckets=LATENCY_BUCKETS)
        self.batches_aborted = Counter(
            "ledger_processor_batches_aborted", "Batches aborted and read again after an "
            "abortable Kafka error", registry=registry)
        self.records_lag = Gauge(
            "ledger_processor_records_lag", "High watermark minus the consumer's position, "
            "per assigned input partition (Kafka consumer: records-lag)",
            ["topic", "partition"], registry=registry)
        self.assigned_partitions = Gauge(
            "ledger_processor_assigned_partitions", "Partitions of the commands topic this "
            "process owns", registry=registry)
        self.rebalances = Counter(
            "ledger_processor_rebalances", "Partition assignments received (the first one "
            "included)", registry=registry)
        self.restore_records = Counter(
            "ledger_processor_restore_records", "Changelog records restored into RocksDB "
            "(Kafka Streams: restore-total)", ["topic"], registry=registry)
        self.restore_remaining = Gauge(
            "ledger_processor_restore_remaining_records", "Changelog records left to restore, "
            "per partition being restored (Kafka Streams: restore-remaining-records-total)",
            ["topic", "partition"], registry=registry)
        self._lag_labels: set[tuple[str, str]] = set()

    def batch_committed(self, processed: Mapping[str, int],
                        answers: Mapping[tuple[str, str], int], latency_s: float,
                        commit_s: float) -> None:
        """A committed batch: its input records by topic and its answers (a posting's
        status and code, or ``DEAD_LETTER`` and the dead letter's code)."""
        total = 0
        for topic, count in processed.items():
            self.records_processed.labels(topic).inc(count)
            total += count
        for (status, code), count in answers.items():
            if status == DEAD_LETTER:
                self.dead_letters.labels(code).inc(count)
            else:
                self.postings.labels(status, code).inc(count)
        self.batch_records.observe(total)
        self.batch_latency.observe(latency_s)
        self.commit_latency.observe(commit_s)

    def lag(self, lags: Iterable[tuple[str, int, int]]) -> None:
        """Set each assigned partition's lag (topic, partition, records); partitions no
        longer listed lose their series."""
        seen = set()
        for topic, partition, records in lags:
            labels = (topic, str(partition))
            seen.add(labels)
            self.records_lag.labels(*labels).set(records)
        for labels in self._lag_labels - seen:
            self.records_lag.remove(*labels)
        self._lag_labels = seen

    def restoring(self, topic: str, partition: int, applied: int, remaining: int) -> None:
        """Restore's progress on one changelog partition: records just applied, and left."""
        if applied:
            self.restore_records.labels(topic).inc(applied)
        self.restore_remaining.labels(topic, str(partition)).set(remaining)
