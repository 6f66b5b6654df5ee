"""The exactly-once sequence of one batch as one object, in the shape of quixstreams'
checkpoint: a Kafka transaction that carries the batch's outputs and its input offsets, and
the state writes that may only follow its commit.

``Checkpoint.commit`` lists its steps. When to commit is decided apart from it: the loop
commits each batch one ``consume`` returned (``Processor.step``).

Every blocking transactional call runs under a watchdog. librdkafka can wait on a
transaction coordinator forever, whatever the timeout it was given (seen here after the
single broker restarted: ``send_offsets_to_transaction`` waited nine minutes; librdkafka
issues 5456 and 5511). A call that outlives its timeout by ``WATCHDOG_GRACE_S`` ends the
process, for its supervisor to restart it: the restart fences the open transaction, and
RocksDB never saw the batch, so nothing is lost or applied twice.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any, TypeVar

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer, TopicPartition

from streams.catalog_commands import CatalogDesk
from streams.outputs import Output
from streams.partition_task import PartitionTask

__all__ = ["Checkpoint", "exit_for_restart", "guarded", "retrying"]

log = logging.getLogger(__name__)

# How long a transactional call is retried while it fails retriably (a broker restarting).
RETRY_FOR_S = 120.0
# How long a transactional call may wait on Kafka, and how much longer before the watchdog
# ends the process.
CALL_TIMEOUT_S = 30.0
WATCHDOG_GRACE_S = 15.0
# The exit status of a process the watchdog ended.
WATCHDOG_EXIT = 75

T = TypeVar("T")


class Checkpoint:
    """One batch's Kafka transaction and the state writes that follow its commit."""

    def __init__(self, producer: Producer, consumer: Consumer,
                 tasks: dict[int, PartitionTask], desk: CatalogDesk) -> None:
        self._producer = producer
        self._consumer = consumer
        self._tasks = tasks
        self._desk = desk
        # The next offset of each changelog partition the batch wrote: the offset its state
        # reflects once the batch is in RocksDB.
        self.changelog_next: dict[tuple[str, int], int] = {}
        # The answers the batch carries (``Output.answer``), counted once it commits.
        self.answers: Counter[tuple[str, str]] = Counter()
        # How long the last ``commit`` took, for the commit latency metric.
        self.commit_s = 0.0
        self._delivery_error: KafkaError | None = None

    def begin(self) -> None:
        """Open the batch's Kafka transaction."""
        self._producer.begin_transaction()

    def produce(self, output: Output) -> None:
        """Write one output inside the transaction."""
        # Only changelog records need a report (their offsets go into RocksDB); any failed
        # delivery also puts the transaction in an abortable state, so the commit fails.
        callback = self._delivered if output.changelog else None
        if output.answer is not None:
            self.answers[output.answer] += 1
        while True:
            try:
                self._producer.produce(output.topic, output.value, output.key,
                                       partition=output.partition, on_delivery=callback)
                return
            except BufferError:
                self._producer.poll(0.05)

    def commit(self, offsets: list[TopicPartition]) -> None:
        """Commit the batch:

        1. flush the producer, so that every record of the batch is delivered or has failed;
        2. fail the batch if any delivery failed;
        3. send the consumed ``offsets`` with the consumer group metadata;
        4. commit the Kafka transaction, retrying while the error is retriable;
        5. only then write each partition's staged state to RocksDB, in one WriteBatch with
           the changelog offsets it brings the state to (they only move forward:
           ``PartitionState.write`` asserts it), and let the catalog desk's decisions join
           the shared catalog.

        A Kafka error in steps 1 to 4 is raised for the caller to abort; RocksDB has seen nothing.
        """
        started = time.perf_counter()
        self._producer.flush(CALL_TIMEOUT_S)
        if self._delivery_error is not None:
            raise KafkaException(self._delivery_error)
        guarded("send_offsets_to_transaction", self._producer.send_offsets_to_transaction,
                offsets, self._consumer.consumer_group_metadata(), CALL_TIMEOUT_S)
        retrying(lambda: guarded("commit_transaction", self._producer.commit_transaction,
                                 CALL_TIMEOUT_S))
        self._write_state()
        self.commit_s = time.perf_counter() - started

    def abort(self) -> None:
        """Abort the transaction and forget everything the batch staged."""
        for task in self._tasks.values():
            task.discard_pending()
        self._desk.discard_pending()
        retrying(lambda: guarded("abort_transaction", self._producer.abort_transaction,
                                 CALL_TIMEOUT_S))

    def _write_state(self) -> None:
        for partition, task in self._tasks.items():
            next_offsets = {topic: offset for (topic, p), offset
                            in self.changelog_next.items() if p == partition}
            pending = task.take_pending()
            if pending or next_offsets:
                task.store.write(pending, next_offsets)
        self._desk.committed()

    def _delivered(self, error: KafkaError | None, message: Message) -> None:
        if error is not None:
            self._delivery_error = error
            return
        key = (message.topic() or "", message.partition() or 0)
        offset = (message.offset() or 0) + 1
        if offset > self.changelog_next.get(key, 0):
            self.changelog_next[key] = offset


def guarded(name: str, call: Callable[..., T], *args: Any,
            timeout_s: float = CALL_TIMEOUT_S) -> T:
    """``call(*args)``, ending the process if it outlives ``timeout_s`` by the grace."""
    watchdog = threading.Timer(timeout_s + WATCHDOG_GRACE_S, _hung, (name, timeout_s))
    watchdog.daemon = True
    watchdog.start()
    try:
        return call(*args)
    finally:
        watchdog.cancel()


def _hung(name: str, timeout_s: float) -> None:
    exit_for_restart(f"{name} did not return within {WATCHDOG_GRACE_S:.0f} s of its "
                     f"{timeout_s:.0f} s timeout: librdkafka is waiting on a coordinator that "
                     "will not answer")


def exit_for_restart(reason: str) -> None:
    """End the process at once for its supervisor to restart it: the restart fences any
    open transaction and reads from the committed offsets, so nothing is lost or doubled."""
    log.critical("%s; the process exits (status %d) so that a restart recovers", reason,
                 WATCHDOG_EXIT)
    logging.shutdown()
    os._exit(WATCHDOG_EXIT)


def retrying(call: Callable[[], object], retry_for_s: float = RETRY_FOR_S) -> None:
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
