"""The executions as the workflow processor last committed them."""

from __future__ import annotations

from uuid import UUID

from connectors.ach.records import decode_execution
from connectors.ach.topics import AchTopics
from ledger_core.ach_workflows import WorkflowExecution
from streams.reading import read_committed


def read_executions(bootstrap: str, topics: AchTopics) -> dict[UUID, WorkflowExecution]:
    """The latest committed record of every execution (the topic is compacted)."""
    latest: dict[UUID, WorkflowExecution] = {}
    for message in read_committed(bootstrap, topics.executions, range(topics.partitions)):
        if message.value() is not None:
            execution = decode_execution(message.value())
            latest[execution.execution_id] = execution
    return latest
