"""One workflow command decided against its execution: what to post, keep and answer.

Pure: the processor gives it the execution as it stands, the configurations and the time,
and writes what it returns in one Kafka transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from uuid import UUID, uuid5

from connectors.ach.records import ResultStatus, WorkflowCommand, WorkflowResult, refused
from ledger_core.ach_tran_codes import CONFIGURATION, AchConfiguration
from ledger_core.ach_workflows import (
    AchRefusal,
    CreateParams,
    WorkflowExecution,
    decide_task,
    parse_task_params,
)
from ledger_core.commands import PostTransaction

# Configurations are not catalog entities yet: the one the ACH setup creates is the only one.
CONFIGURATIONS: Mapping[UUID, AchConfiguration] = MappingProxyType(
    {CONFIGURATION.config_id: CONFIGURATION})


@dataclass(frozen=True)
class Posting:
    """A ledger posting command, under its command id, keyed by its owner account."""

    command_id: str
    command: PostTransaction
    owner: UUID


@dataclass(frozen=True)
class CommandDecided:
    """The result to send; the execution to keep (None: unchanged); the postings to send."""

    result: WorkflowResult
    execution: WorkflowExecution | None = None
    postings: tuple[Posting, ...] = ()


def posting_command_id(command_id: str, transaction_id: UUID) -> str:
    """The id of the posting command a workflow command sends for ``transaction_id``: the
    same every time the command is decided, so a batch decided again sends the same one."""
    return str(uuid5(transaction_id, command_id))


def decide_command(execution: WorkflowExecution | None, command: WorkflowCommand,
                   configurations: Mapping[UUID, AchConfiguration],
                   at: datetime) -> CommandDecided:
    """Decide ``command`` on ``execution`` (None: none with its id exists)."""
    params = parse_task_params(command.task, command.params)
    if isinstance(params, AchRefusal):
        return _refused(command, params, at)
    configuration = (configurations.get(params.config_id)
                     if isinstance(params, CreateParams) else None)
    decided = decide_task(execution, command.task, params, execution_id=command.execution_id,
                          workflow=command.code, configuration=configuration, at=at)
    if isinstance(decided, AchRefusal):
        return _refused(command, decided, at)
    kept = decided.execution
    postings = () if decided.repeated else tuple(
        Posting(posting_command_id(command.command_id, posted.transaction_id), posted,
                kept.params.account_id)
        for posted in decided.commands)
    result = WorkflowResult(
        command_id=command.command_id, execution_id=command.execution_id,
        workflow=command.code, task=command.task,
        status=ResultStatus.REPEATED if decided.repeated else ResultStatus.ACCEPTED,
        state=kept.state, transaction_ids=kept.transaction_ids,
        posting_command_ids=tuple(posting.command_id for posting in postings), decided_at=at)
    return CommandDecided(result, None if decided.repeated else kept, postings)


def _refused(command: WorkflowCommand, refusal: AchRefusal, at: datetime) -> CommandDecided:
    return CommandDecided(refused(command.command_id, command.execution_id, command.code,
                                  command.task, refusal, at))
