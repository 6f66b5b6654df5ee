"""One record of the workflow commands topic decided against its execution: what to post,
keep and answer.

Pure: the processor gives it the execution and the task waiting for its posting as they
stand, the configurations and the time, and writes what it returns in one Kafka
transaction. A task is answered only once the ledger has decided its posting: until then
it is pending, and its execution is kept only when the posting posted, so a posting the
ledger refuses (a limit, a locked account) leaves the execution as it was.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID, uuid5

from connectors.ach.records import (
    AchTrace,
    PendingTask,
    PostingOutcome,
    ResultStatus,
    TraceCommand,
    WorkflowCommand,
    WorkflowResult,
    refused,
)
from ledger_core.ach_tran_codes import AchConfiguration
from ledger_core.ach_workflows import (
    AchRefusal,
    AchRefusalCode,
    CreateParams,
    Task,
    WorkflowExecution,
    assign_trace,
    decide_task,
    parse_task_params,
)
from ledger_core.commands import PostTransaction

# The prefix of the command id of every posting a workflow task sends: the processor picks
# its executions' answers out of the ledger's results by it.
POSTING_PREFIX = "ach:"

# Tasks that may wait behind a pending one: an execution runs five at most, so more is
# a client gone wrong, and the queue is kept on a topic.
QUEUED_MAX = 8

# The ledger's answer to a transaction id it has seen: the task's posting had posted (a
# task's transaction id is only ever posted by that task).
_DUPLICATE = "transaction_id_duplicate"


@dataclass(frozen=True)
class Posting:
    """A ledger posting command, under its command id, keyed by its owner account."""

    command_id: str
    command: PostTransaction
    owner: UUID


@dataclass(frozen=True)
class CommandDecided:
    """What one record leads to: the results to send, the execution to keep (None:
    unchanged), the pending task to keep (``pending_changed``; None: none waits any more),
    the postings to send and the trace index record to write."""

    results: tuple[WorkflowResult, ...] = ()
    execution: WorkflowExecution | None = None
    pending: PendingTask | None = None
    pending_changed: bool = False
    postings: tuple[Posting, ...] = ()
    trace: AchTrace | None = None


def posting_command_id(execution_id: UUID, command_id: str, transaction_id: UUID) -> str:
    """The id of the posting command a workflow command sends for ``transaction_id``: the
    same every time the command is decided, so a batch decided again sends the same one,
    and naming the execution, so its answer can be routed back to it."""
    return f"{POSTING_PREFIX}{execution_id}:{uuid5(transaction_id, command_id)}"


def posting_execution(command_id: str) -> UUID | None:
    """The execution a posting command id names, or None for any other command."""
    if not command_id.startswith(POSTING_PREFIX):
        return None
    try:
        return UUID(command_id[len(POSTING_PREFIX):].split(":", 1)[0])
    except ValueError:
        return None


def decide_command(execution: WorkflowExecution | None, pending: PendingTask | None,
                   command: WorkflowCommand, configurations: Mapping[UUID, AchConfiguration],
                   at: datetime) -> CommandDecided:
    """Decide a task on ``execution`` (None: none with its id has posted its CREATE)."""
    params = parse_task_params(command.task, command.params)
    if isinstance(params, AchRefusal):
        return _refused(command, params, at)
    if (pending is not None and pending.rejected is not None and execution is None
            and command.task is Task.CREATE and command.params != pending.params):
        return _refused(command, AchRefusal(
            code=AchRefusalCode.ACH_REPEATED_TASK_PARAMS_DIFFER,
            message=f"the ledger rejected execution {command.execution_id}'s CREATE "
                    f"({pending.rejected}); send it again with the same params, or use a new "
                    "execution id", field="params"), at)
    if pending is not None and pending.rejected is None:
        if (command.task, command.params) == (pending.task, pending.params):
            waiting = pending.model_copy(
                update={"command_ids": (*pending.command_ids, command.command_id)})
            return CommandDecided(pending=waiting, pending_changed=True)
        if len(pending.queued) >= QUEUED_MAX:
            return _refused(command, AchRefusal(
                code=AchRefusalCode.ACH_TASK_PENDING,
                message=f"execution {command.execution_id} has {QUEUED_MAX} tasks waiting "
                        f"behind its {pending.task}; send {command.task} once they are "
                        "answered", field="task"), at)
        queued = pending.model_copy(update={"queued": (*pending.queued, command)})
        return CommandDecided(pending=queued, pending_changed=True)
    configuration = (configurations.get(params.config_id)
                     if isinstance(params, CreateParams) else None)
    decided = decide_task(execution, command.task, params, execution_id=command.execution_id,
                          workflow=command.code, configuration=configuration, at=at)
    if isinstance(decided, AchRefusal):
        return _refused(command, decided, at)
    after = decided.execution
    if decided.repeated:
        return CommandDecided(results=(_answer(command.command_id, command.task, after,
                                               ResultStatus.REPEATED, (), at),))
    (posted,) = decided.commands
    posting = Posting(posting_command_id(command.execution_id, command.command_id,
                                         posted.transaction_id),
                      posted, after.params.account_id)
    waiting = PendingTask(execution_id=command.execution_id, task=command.task,
                          params=command.params, after=after,
                          posting_command_id=posting.command_id,
                          command_ids=(command.command_id,))
    return CommandDecided(pending=waiting, pending_changed=True, postings=(posting,))


def decide_outcome(execution: WorkflowExecution | None, pending: PendingTask | None,
                   outcome: PostingOutcome, configurations: Mapping[UUID, AchConfiguration],
                   at: datetime) -> CommandDecided:
    """The ledger decided a task's posting: keep the execution after the task if it posted,
    answer every command that waits for it, then decide the tasks queued behind it."""
    if (pending is None or pending.rejected is not None
            or pending.posting_command_id != outcome.posting_command_id):
        # Only a task's own posting resolves it; its answer comes once (exactly-once relay).
        return CommandDecided()
    resolved = _resolve(execution, pending, outcome, at)
    kept = resolved.execution or execution
    left: PendingTask | None = resolved.pending
    results, postings = resolved.results, resolved.postings
    for number, command in enumerate(pending.queued):
        decided = decide_command(kept, left, command, configurations, at)
        results, postings = results + decided.results, postings + decided.postings
        if decided.pending_changed:
            left = decided.pending
        if left is not None and left.rejected is None:
            left = left.model_copy(update={"queued": pending.queued[number + 1:]})
            break
    return CommandDecided(results=results, execution=resolved.execution, pending=left,
                          pending_changed=True, postings=postings)


def _resolve(execution: WorkflowExecution | None, pending: PendingTask,
             outcome: PostingOutcome, at: datetime) -> CommandDecided:
    after = pending.after
    if outcome.posted or outcome.code == _DUPLICATE:
        if execution is not None:
            # A generated file may have given the entry its trace number meanwhile.
            after = after.model_copy(update={"trace_number": execution.trace_number,
                                             "file_id": execution.file_id})
        results = tuple(_answer(command_id, pending.task, after, ResultStatus.ACCEPTED,
                                (pending.posting_command_id,), at)
                        for command_id in pending.command_ids)
        return CommandDecided(results=results, execution=after, pending_changed=True)
    refusal = AchRefusal(code=AchRefusalCode.ACH_POSTING_REJECTED,
                         message=f"the ledger rejected the {pending.task} posting "
                                 f"({outcome.code}: {outcome.message}); execution "
                                 f"{pending.execution_id} is as it was", field="task")
    results = tuple(
        refused(command_id, pending.execution_id, after.workflow, pending.task, refusal, at)
        .model_copy(update={"posting_command_ids": (pending.posting_command_id,),
                            "state": None if execution is None else execution.state})
        for command_id in pending.command_ids)
    resolved = pending.model_copy(update={"command_ids": (), "queued": (),
                                          "rejected": f"{outcome.code}: {outcome.message}"})
    return CommandDecided(results=results, pending=resolved, pending_changed=True)


def decide_trace(execution: WorkflowExecution | None, command: TraceCommand,
                 at: datetime) -> CommandDecided:
    """Keep the trace number a generated file gave the execution's entry, and index it."""
    if execution is None:
        return CommandDecided(results=(refused(
            command.command_id, command.execution_id, None, None,
            AchRefusal(code=AchRefusalCode.ACH_EXECUTION_NOT_FOUND,
                       message=f"trace number {command.trace_number} names execution "
                               f"{command.execution_id}, which does not exist",
                       field="executionId"), at),))
    traced = assign_trace(execution, command.trace_number, command.file_id)
    if isinstance(traced, AchRefusal):
        return CommandDecided(results=(refused(command.command_id, command.execution_id,
                                               execution.workflow, None, traced, at),))
    if traced is None:
        return CommandDecided(results=(_answer(command.command_id, None, execution,
                                               ResultStatus.REPEATED, (), at),))
    trace = AchTrace(trace_number=command.trace_number, execution_id=traced.execution_id,
                     workflow=traced.workflow, file_id=command.file_id,
                     config_id=traced.config_id, config_version=traced.config_version)
    return CommandDecided(results=(_answer(command.command_id, None, traced,
                                           ResultStatus.ACCEPTED, (), at),),
                          execution=traced, trace=trace)


def _answer(command_id: str, task: Task | None, execution: WorkflowExecution,
            status: ResultStatus, posting_command_ids: tuple[str, ...],
            at: datetime) -> WorkflowResult:
    return WorkflowResult(
        command_id=command_id, execution_id=execution.execution_id,
        workflow=execution.workflow, task=task, status=status, state=execution.state,
        transaction_ids=execution.transaction_ids, posting_command_ids=posting_command_ids,
        trace_number=execution.trace_number, decided_at=at)


def _refused(command: WorkflowCommand, refusal: AchRefusal, at: datetime) -> CommandDecided:
    return CommandDecided(results=(refused(command.command_id, command.execution_id,
                                           command.code, command.task, refusal, at),))
