"""The records of the ACH workflow topics: JSON, camelCase, money as decimal strings
(docs/decisions/0011-ach-workflow-records.md).

A command names an execution, its workflow, a task and the task's params as the client
sent them; the processor validates the params, so a bad one gets a result, not a dead
letter. A result answers one command: the execution's state and transactions, or the
refusal.
"""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID

from pydantic import StringConstraints, ValidationError

from ledger_core.ach_workflows import (
    AchRefusal,
    AchRefusalCode,
    State,
    Task,
    Workflow,
    WorkflowExecution,
)
from ledger_core.base import LedgerModel


class WorkflowCommand(LedgerModel):
    """One task asked of one execution; ``command_id`` is unique per send."""

    command_id: str
    execution_id: UUID
    code: Workflow
    task: Task
    params: dict[str, Any]
    sent_at: datetime


class TraceCommand(LedgerModel):
    """The trace number a generated file gives a SUBMITTED execution's entry, sent to the
    execution's partition like a task: the workflow processor keeps it on the execution and
    writes the trace index in one transaction."""

    command_id: str
    execution_id: UUID
    trace_number: Annotated[str, StringConstraints(pattern=r"^\d{15}$")]
    file_id: UUID
    sent_at: datetime


class PostingOutcome(LedgerModel):
    """The ledger's decision on a posting a task sent, relayed by the workflow processor
    from the ledger's results to the execution's partition."""

    posting_command_id: str
    execution_id: UUID
    posted: bool
    code: str | None = None
    message: str | None = None


class PendingTask(LedgerModel):
    """A task whose posting the ledger has still to decide: the execution it leads to once
    posted, the posting's command id, and every workflow command waiting for the answer
    (a client that sent the same task again waits with the first), and the commands for
    other tasks that arrived meanwhile, decided in turn once this one is answered.

    Once the ledger rejects the posting, the task waits no more and ``rejected`` holds the
    ledger's reason: it is kept so that a CREATE sent again under the execution id must
    bring the same params. Its transaction id is bound to the partition of the first
    CREATE's account, so another account could never post it.
    """

    execution_id: UUID
    task: Task
    params: dict[str, Any]
    after: WorkflowExecution
    posting_command_id: str
    command_ids: tuple[str, ...]
    queued: tuple[WorkflowCommand, ...] = ()
    rejected: str | None = None


class AchTrace(LedgerModel):
    """A trace number's entry: the execution it belongs to and the file it went out in."""

    trace_number: str
    execution_id: UUID
    workflow: Workflow
    file_id: UUID
    config_id: UUID
    config_version: int


class ResultStatus(StrEnum):
    """What became of a workflow command."""

    # The task ran and its posting posted (or: the trace number was kept).
    ACCEPTED = "ACCEPTED"
    # The execution had run the task: answered from it, nothing posted again.
    REPEATED = "REPEATED"
    REFUSED = "REFUSED"


class WorkflowResult(LedgerModel):
    """The answer to one workflow command.

    A task is answered once the ledger has decided its posting: ACCEPTED when it posted,
    REFUSED ``ach_posting_rejected`` when the ledger rejected it (the execution is as it
    was). ``transaction_ids`` are every transaction the execution has produced; the task's
    own is the last of them when it was accepted or repeated. ``posting_command_ids`` are
    the ledger commands this command's task sent (none when repeated or refused by the
    workflow): the ledger's results for them carry its decision.
    """

    command_id: str
    execution_id: UUID | None
    workflow: Workflow | None
    task: Task | None
    status: ResultStatus
    state: State | None = None
    transaction_ids: tuple[UUID, ...] = ()
    posting_command_ids: tuple[str, ...] = ()
    trace_number: str | None = None
    code: AchRefusalCode | None = None
    message: str | None = None
    field: str | None = None
    decided_at: datetime

    def to_json(self) -> dict[str, Any]:
        """A JSON-able view of the result."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


def encode(model: LedgerModel) -> bytes:
    """A record's value: the model's camelCase JSON."""
    return model.model_dump_json(by_alias=True).encode()


def decode_execution(value: bytes) -> WorkflowExecution:
    """An ``ach-workflows`` record's execution."""
    return WorkflowExecution.model_validate_json(value)


def decode_result(value: bytes) -> WorkflowResult:
    """An ``ach-workflow-results`` record's result."""
    return WorkflowResult.model_validate_json(value)


InboundCommand = WorkflowCommand | TraceCommand | PostingOutcome


def decode_pending(value: bytes) -> PendingTask:
    """An ``ach-workflows-pending`` record's task."""
    return PendingTask.model_validate_json(value)


def decode_command(value: bytes | None, at: datetime) -> InboundCommand | WorkflowResult | None:
    """A record of the commands topic (a task, a trace number, or a posting's outcome), or
    the refusal to send back when it does not validate; None when it names no command id,
    so no client could be waiting for an answer."""
    try:
        document = json.loads(value or b"")
    except ValueError:
        document = None
    # Each kind of record has a field no other kind has.
    model: type[InboundCommand] = WorkflowCommand
    if isinstance(document, dict) and "postingCommandId" in document:
        model = PostingOutcome
    elif isinstance(document, dict) and "traceNumber" in document and "task" not in document:
        model = TraceCommand
    try:
        return model.model_validate(document)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        refusal = AchRefusal(code=AchRefusalCode.ACH_PARAMS_INVALID,
                             message=f"the workflow command is invalid: {where}: "
                                     f"{first['msg']}", field=where)
        command_id = document.get("commandId") if isinstance(document, dict) else None
        if not isinstance(command_id, str) or not command_id:
            return None
        return refused(command_id, None, None, None, refusal, at)


def refused(command_id: str, execution_id: UUID | None, workflow: Workflow | None,
            task: Task | None, refusal: AchRefusal, at: datetime) -> WorkflowResult:
    """The result of a refused command."""
    return WorkflowResult(command_id=command_id, execution_id=execution_id, workflow=workflow,
                          task=task, status=ResultStatus.REFUSED, code=refusal.code,
                          message=refusal.message, field=refusal.field, decided_at=at)

