"""The exactly-once ACH workflow processor: a consume-transform-produce loop on
confluent-kafka, in the style of the ledger's own processor (docs/decisions/0001).

It consumes two topics in one group: its own commands (tasks, trace numbers from
generated files, and the ledger's answers to postings) and the ledger's results. Each turn
is one batch, committed as one Kafka transaction:

1. consume a batch from the partitions this process owns;
2. a ledger result for a posting a task sent (its command id starts ``ach:`` and names the
   execution) is relayed as a ``PostingOutcome`` to the execution's commands partition;
3. a commands record is decided against its execution and the task waiting for its
   posting, as held in memory plus what the batch itself has decided: an accepted task
   sends its posting and becomes pending; an outcome keeps the execution after the task
   when it posted, and answers every command waiting for it;
4. produce all of that inside the transaction (postings to the ledger's commands topic,
   executions and pending tasks to their compacted topics, trace index records, results),
   send the consumed offsets and commit;
5. only then keep the batch's executions and pending tasks in memory.

A kill at any instant commits all of a batch or none of it: an aborted batch is decided
again from the same state, and sends the same posting commands under the same ids. A
partition's executions and pending tasks are rebuilt from their topics (read_committed)
when it is assigned; rebalance callbacks run inside ``consume``, between transactions, so
no batch is open when partitions move.
"""

from __future__ import annotations

import logging
import signal
from dataclasses import dataclass
from datetime import UTC, datetime
from types import FrameType
from uuid import UUID

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer, TopicPartition
from confluent_kafka.admin import AdminClient

from connectors.ach.configurations import ConfigurationView
from connectors.ach.decisions import (
    CommandDecided,
    decide_command,
    decide_outcome,
    decide_trace,
    posting_execution,
)
from connectors.ach.records import (
    PendingTask,
    PostingOutcome,
    TraceCommand,
    WorkflowResult,
    decode_command,
    decode_execution,
    decode_pending,
    encode,
)
from connectors.ach.topics import AchTopics, execution_key
from connectors.ach.traces import trace_key
from ledger_core.ach_workflows import Task, WorkflowExecution
from schemas.codec import codec
from streams.checkpoint import CALL_TIMEOUT_S, guarded, retrying
from streams.client import command_message
from streams.errors import LedgerError
from streams.kafka_config import kafka_config
from streams.reading import read_committed
from streams.topics import Topics, ensure_specs, topic_partitions

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkflowProcessorConfig:
    """How one workflow processor process runs."""

    bootstrap: str
    topics: AchTopics
    instance_id: str
    batch_max: int = 200
    batch_timeout_s: float = 0.05
    transaction_timeout_ms: int = 10_000
    session_timeout_ms: int = 10_000
    replication: int | None = None

    @property
    def transactional_id(self) -> str:
        """Stable per instance, so a restart fences its own dangling transaction at once."""
        return f"{self.topics.prefix}.ach-workflow-processor.{self.instance_id}"


def open_workflow_processor(config: WorkflowProcessorConfig) -> WorkflowProcessor:
    """Create or check the ACH topics, find the ledger's, fence earlier transactions, and
    return the processor, subscribed to the workflow commands."""
    admin = AdminClient(kafka_config(config.bootstrap))
    ledger = Topics(prefix=config.topics.prefix)
    ledger_partitions = topic_partitions(admin, ledger.commands)
    if ledger_partitions is None:
        raise LedgerError(f"topic {ledger.commands} does not exist: start a processor "
                          "(`ledger processor run`) to create the ledger's topics")
    ensure_specs(admin, config.topics.specs(), config.replication)
    producer = Producer(kafka_config(config.bootstrap, {
        "transactional.id": config.transactional_id,
        "transaction.timeout.ms": config.transaction_timeout_ms, "linger.ms": 2,
    }))
    try:
        guarded("init_transactions", producer.init_transactions, 60)
    except KafkaException as exc:
        raise LedgerError(f"Kafka refused init_transactions: {exc.args[0]}") from exc
    consumer = Consumer(kafka_config(config.bootstrap, {
        "group.id": config.topics.processor_group,
        "group.instance.id": config.instance_id,
        "isolation.level": "read_committed", "enable.auto.commit": False,
        "auto.offset.reset": "earliest", "partition.assignment.strategy": "range",
        "session.timeout.ms": config.session_timeout_ms,
        "heartbeat.interval.ms": max(1000, config.session_timeout_ms // 5),
        "max.poll.interval.ms": 600_000,
    }))
    return WorkflowProcessor(config, producer, consumer,
                             Topics(prefix=config.topics.prefix, partitions=ledger_partitions),
                             ConfigurationView(config.bootstrap, config.topics))


class WorkflowProcessor:
    """Owns partitions of the workflow commands and decides them exactly once."""

    def __init__(self, config: WorkflowProcessorConfig, producer: Producer, consumer: Consumer,
                 ledger: Topics, configurations: ConfigurationView) -> None:
        self.config = config
        self.configurations = configurations
        self.topics = config.topics
        self.ledger = ledger
        self.producer = producer
        self.consumer = consumer
        # Each owned commands partition's executions and pending tasks, as of the last
        # committed batch.
        self.executions: dict[int, dict[UUID, WorkflowExecution]] = {}
        self.pending: dict[int, dict[UUID, PendingTask]] = {}
        self._stopping = False
        self._delivery_error: KafkaError | None = None
        consumer.subscribe([self.topics.commands, ledger.results], on_assign=self._on_assign,
                           on_revoke=self._on_revoke, on_lost=self._on_revoke)

    def run(self, install_signals: bool = True) -> None:
        """Process until SIGTERM/SIGINT, then shut down cleanly."""
        if install_signals:
            signal.signal(signal.SIGTERM, self._request_stop)
            signal.signal(signal.SIGINT, self._request_stop)
        try:
            while not self._stopping:
                self.step()
        finally:
            self.close()

    def _request_stop(self, signum: int, frame: FrameType | None) -> None:
        self._stopping = True

    def close(self) -> None:
        """Leave the group (no batch is open between steps)."""
        self.consumer.close()
        self.configurations.close()
        self.producer.flush(10)

    def step(self) -> int:
        """Consume and process one batch in one transaction; return how many commands."""
        messages = [m for m in self.consumer.consume(self.config.batch_max,
                                                     self.config.batch_timeout_s)
                    if not self._is_event(m)]
        if messages:
            self.configurations.refresh()
            self._process(messages)
        return len(messages)

    # Rebalances ----------------------------------------------------------------------

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        owned = sorted(tp.partition for tp in partitions if tp.topic == self.topics.commands)
        for partition in owned:
            if partition not in self.executions:
                self.executions[partition] = self._rebuild(partition)
                self.pending[partition] = self._rebuild_pending(partition)
        log.info("assigned [%s], %d executions and %d pending tasks restored",
                 ", ".join(map(str, owned)),
                 sum(len(held) for held in self.executions.values()),
                 sum(len(held) for held in self.pending.values()))

    def _rebuild(self, partition: int) -> dict[UUID, WorkflowExecution]:
        held: dict[UUID, WorkflowExecution] = {}
        for message in read_committed(self.config.bootstrap, self.topics.executions,
                                      [partition]):
            execution = decode_execution(message.value())
            held[execution.execution_id] = execution
        return held

    def _rebuild_pending(self, partition: int) -> dict[UUID, PendingTask]:
        held: dict[UUID, PendingTask] = {}
        for message in read_committed(self.config.bootstrap, self.topics.pending, [partition]):
            execution_id = UUID(message.key().decode())
            if message.value() is None:
                held.pop(execution_id, None)
            else:
                held[execution_id] = decode_pending(message.value())
        return held

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        # Called from consume(): the previous batch is committed and no transaction is open;
        # the next owner rebuilds from Kafka.
        for tp in partitions:
            if tp.topic == self.topics.commands:
                self.executions.pop(tp.partition, None)
                self.pending.pop(tp.partition, None)

    # One batch -----------------------------------------------------------------------

    def _process(self, messages: list[Message]) -> None:
        staged = _Staged()
        self._delivery_error = None
        try:
            self.producer.begin_transaction()
            for message in messages:
                if message.topic() == self.ledger.results:
                    self._relay(message)
                else:
                    self._decide(message, staged)
            self.producer.flush(CALL_TIMEOUT_S)
            if self._delivery_error is not None:
                raise KafkaException(self._delivery_error)
            positions = [tp for tp in self.consumer.position(self.consumer.assignment())
                         if tp.offset >= 0]
            guarded("send_offsets_to_transaction", self.producer.send_offsets_to_transaction,
                    positions, self.consumer.consumer_group_metadata(), CALL_TIMEOUT_S)
            retrying(lambda: guarded("commit_transaction", self.producer.commit_transaction,
                                     CALL_TIMEOUT_S))
        except KafkaException as exc:
            self._fail_batch(exc)
            return
        for partition, executions in staged.executions.items():
            self.executions.setdefault(partition, {}).update(executions)
        for partition, pending in staged.pending.items():
            held = self.pending.setdefault(partition, {})
            for execution_id, task in pending.items():
                if task is None:
                    held.pop(execution_id, None)
                else:
                    held[execution_id] = task

    def _relay(self, message: Message) -> None:
        """Send the ledger's answer to a task's posting to the task's execution."""
        key = message.key()
        if key is None or b"ach:" not in key:
            return
        command_id = codec().decode("command_key", key)["command_id"]
        execution_id = posting_execution(command_id)
        if execution_id is None:
            return
        record = codec().decode("result", message.value())
        outcome = PostingOutcome(posting_command_id=command_id, execution_id=execution_id,
                                 posted=record["status"] != "REJECTED", code=record["code"],
                                 message=record["message"])
        self._produce(self.topics.commands, execution_key(execution_id), encode(outcome),
                      self.topics.partition(execution_id))

    def _decide(self, message: Message, staged: _Staged) -> None:
        partition = message.partition() or 0
        at = datetime.now(UTC)
        command = decode_command(message.value(), at)
        if command is None:
            log.warning("%s[%d]@%d is no workflow command and names no command id: skipped",
                        self.topics.commands, partition, message.offset())
            return
        if isinstance(command, WorkflowResult):
            self._send_result(partition, command)
            return
        execution_id = command.execution_id
        execution = staged.execution(partition, execution_id, self.executions)
        pending = staged.pending_task(partition, execution_id, self.pending)
        if isinstance(command, PostingOutcome):
            decided = decide_outcome(execution, pending, command, self.configurations, at)
        elif isinstance(command, TraceCommand):
            decided = decide_trace(execution, command, at)
        else:
            if (command.task is Task.CREATE
                    and command.params.get("configId") not in {str(c) for c in
                                                               self.configurations}):
                self.configurations.catch_up()
            decided = decide_command(execution, pending, command, self.configurations, at)
        self._send(partition, execution_id, decided, at)
        if decided.execution is not None:
            staged.executions.setdefault(partition, {})[execution_id] = decided.execution
        if decided.pending_changed:
            staged.pending.setdefault(partition, {})[execution_id] = decided.pending

    def _send(self, partition: int, execution_id: UUID, decided: CommandDecided,
              at: datetime) -> None:
        for posting in decided.postings:
            key, value, ledger_partition = command_message(
                posting.command, posting.owner, posting.command_id, self.ledger.partitions, at)
            self._produce(self.ledger.commands, key, value, ledger_partition)
        if decided.execution is not None:
            self._produce(self.topics.executions, execution_key(execution_id),
                          encode(decided.execution), partition)
        if decided.pending_changed:
            self._produce(self.topics.pending, execution_key(execution_id),
                          None if decided.pending is None else encode(decided.pending),
                          partition)
        if decided.trace is not None:
            # The index is read whole by trace number; its partition follows the execution.
            self._produce(self.topics.traces, trace_key(decided.trace.trace_number),
                          encode(decided.trace), partition)
        for result in decided.results:
            self._send_result(partition, result)

    def _send_result(self, partition: int, result: WorkflowResult) -> None:
        key = None if result.execution_id is None else execution_key(result.execution_id)
        self._produce(self.topics.results, key, encode(result), partition)

    def _produce(self, topic: str, key: bytes | None, value: bytes | None,
                 partition: int) -> None:
        while True:
            try:
                self.producer.produce(topic, value, key, partition=partition,
                                      on_delivery=self._delivered)
                return
            except BufferError:
                self.producer.poll(0.05)

    def _delivered(self, error: KafkaError | None, message: Message) -> None:
        # Any failed delivery also makes the transaction abortable, so the commit fails.
        if error is not None:
            self._delivery_error = error

    def _fail_batch(self, exc: KafkaException) -> None:
        """Abort and re-read the batch; only a fatal error (fenced, unrecoverable) stops us."""
        error: KafkaError = exc.args[0]
        if error.fatal():
            raise LedgerError(f"fatal Kafka error, the workflow processor stops: {error}"
                              ) from exc
        log.warning("aborting the batch after %s; rewinding to the committed offsets", error)
        try:
            retrying(lambda: guarded("abort_transaction", self.producer.abort_transaction,
                                     CALL_TIMEOUT_S))
            retrying(self._rewind)
        except KafkaException as again:
            raise LedgerError(f"could not abort the batch, the workflow processor stops: "
                              f"{again.args[0]}") from again

    def _rewind(self) -> None:
        for tp in self.consumer.committed(self.consumer.assignment(), timeout=30):
            self.consumer.seek(TopicPartition(tp.topic, tp.partition, max(tp.offset, 0)))

    def _is_event(self, message: Message) -> bool:
        error = message.error()
        if error is None:
            return False
        if error.fatal():
            raise LedgerError(f"fatal consumer error: {error}")
        log.warning("consumer: %s", error)
        return True


class _Staged:
    """What a batch has decided so far, before it commits: executions, and pending tasks
    (None: resolved), per commands partition."""

    def __init__(self) -> None:
        self.executions: dict[int, dict[UUID, WorkflowExecution]] = {}
        self.pending: dict[int, dict[UUID, PendingTask | None]] = {}

    def execution(self, partition: int, execution_id: UUID,
                  committed: dict[int, dict[UUID, WorkflowExecution]]) -> WorkflowExecution | None:
        staged = self.executions.get(partition, {}).get(execution_id)
        return staged or committed.get(partition, {}).get(execution_id)

    def pending_task(self, partition: int, execution_id: UUID,
                     committed: dict[int, dict[UUID, PendingTask]]) -> PendingTask | None:
        staged = self.pending.get(partition, {})
        if execution_id in staged:
            return staged[execution_id]
        return committed.get(partition, {}).get(execution_id)
