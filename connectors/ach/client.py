"""The producer side of the ACH workflows: send workflow commands, and wait for their results.

A command goes to its execution's partition; its one result comes back on the same
partition of the results topic, once the ledger has decided the task's posting. A client
that times out may send the same task again: the execution answers it from its history
(``REPEATED``) and nothing posts twice.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition

from connectors.ach.records import (
    TraceCommand,
    WorkflowCommand,
    WorkflowResult,
    decode_result,
    encode,
)
from connectors.ach.topics import AchTopics, execution_key
from ledger_core.ach_workflows import Task, Workflow
from streams.errors import CommandTimeoutError, LedgerError
from streams.kafka_config import kafka_config
from streams.offsets import end_offset

RESULT_TIMEOUT_S = 30.0


class AchClient:
    """Sends workflow commands to a ledger's ACH topics and collects their results."""

    def __init__(self, bootstrap: str, prefix: str = "ledger") -> None:
        self.bootstrap = bootstrap
        self._producer = Producer(kafka_config(bootstrap, {"enable.idempotence": True,
                                                           "acks": "all", "linger.ms": 1}))
        self.topics = AchTopics(prefix, self._partition_count(AchTopics(prefix).commands))
        # The commands this client sent whose results no one has taken yet: the results of
        # other clients' commands are not kept.
        self._awaited: set[str] = set()
        self._results: dict[str, WorkflowResult] = {}
        # Threads may wait at once (the API's requests): one consumes at a time, and every
        # result it reads lands where each waiter looks.
        self._watching = threading.Lock()
        self._watcher = self._watch_results()

    def _partition_count(self, topic: str) -> int:
        try:
            metadata = self._producer.list_topics(topic, timeout=15)
        except KafkaException as exc:
            raise LedgerError(f"cannot reach Kafka at {self.bootstrap}: {exc}") from exc
        found = metadata.topics.get(topic)
        if found is None or found.error is not None or not found.partitions:
            raise LedgerError(f"topic {topic} does not exist: start a workflow processor "
                              "(`ledger ach workflows run`) to create the ACH topics")
        return len(found.partitions)

    def _watch_results(self) -> Consumer:
        consumer = Consumer(kafka_config(self.bootstrap, {
            "group.id": f"ach-client-{uuid.uuid4()}", "isolation.level": "read_committed",
            "enable.auto.commit": False,
        }))
        consumer.assign([TopicPartition(self.topics.results, p,
                                        end_offset(consumer, self.topics.results, p))
                         for p in range(self.topics.partitions)])
        return consumer

    def send(self, execution_id: UUID, workflow: Workflow, task: Task,
             params: Mapping[str, Any], command_id: str | None = None) -> str:
        """Send ``task`` for the execution; return the command id."""
        command = WorkflowCommand(command_id=command_id or str(uuid.uuid4()),
                                  execution_id=execution_id, code=workflow, task=task,
                                  params=dict(params), sent_at=datetime.now(UTC))
        self._send(execution_id, command.command_id, encode(command))
        return command.command_id

    def _send(self, execution_id: UUID, command_id: str, value: bytes) -> None:
        with self._watching:
            self._awaited.add(command_id)
        while True:
            try:
                self._producer.produce(self.topics.commands, value, execution_key(execution_id),
                                       partition=self.topics.partition(execution_id))
                self._producer.poll(0)
                return
            except BufferError:
                self._producer.poll(0.05)

    def send_trace(self, execution_id: UUID, trace_number: str, file_id: UUID,
                   command_id: str | None = None) -> str:
        """Give a SUBMITTED execution's entry the trace number of a generated file; return
        the command id."""
        command = TraceCommand(command_id=command_id or str(uuid.uuid4()),
                               execution_id=execution_id, trace_number=trace_number,
                               file_id=file_id, sent_at=datetime.now(UTC))
        self._send(execution_id, command.command_id, encode(command))
        return command.command_id

    def wait(self, command_ids: Iterable[str],
             timeout_s: float = RESULT_TIMEOUT_S) -> dict[str, WorkflowResult]:
        """Wait for the result of every command; raise CommandTimeoutError if one is late."""
        wanted = set(command_ids)
        with self._watching:
            self._awaited |= wanted
        if self._producer.flush(timeout_s) > 0:
            raise LedgerError(f"workflow commands were not acknowledged in {timeout_s:.0f}s")
        deadline = time.monotonic() + timeout_s
        while True:
            with self._watching:
                missing = wanted - self._results.keys()
                if not missing:
                    self._awaited -= wanted
                    return {command_id: self._results.pop(command_id) for command_id in wanted}
                if time.monotonic() > deadline:
                    raise CommandTimeoutError(
                        f"no workflow result for {len(missing)} command(s) (first: "
                        f"{min(missing)}) within {timeout_s:.0f}s; sending the same task "
                        "again is safe")
                for message in self._watcher.consume(1000, timeout=0.05):
                    if message.error() is None:
                        result = decode_result(message.value() or b"")
                        if result.command_id in self._awaited:
                            self._results[result.command_id] = result

    def execute(self, execution_id: UUID, workflow: Workflow, task: Task,
                params: Mapping[str, Any],
                timeout_s: float = RESULT_TIMEOUT_S) -> WorkflowResult:
        """Send ``task`` and wait for its result."""
        command_id = self.send(execution_id, workflow, task, params)
        return self.wait([command_id], timeout_s)[command_id]

    def close(self) -> None:
        """Flush what was sent and stop watching results."""
        self._producer.flush(10)
        self._watcher.close()
