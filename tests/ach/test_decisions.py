"""The workflow runtime's decisions, pure: a task waits for its posting, the commands that
arrive meanwhile wait with it or queue behind it, and the ledger's answer settles it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from connectors.ach.decisions import (
    QUEUED_MAX,
    CommandDecided,
    decide_command,
    decide_outcome,
    posting_execution,
)
from connectors.ach.records import PendingTask, PostingOutcome, ResultStatus, WorkflowCommand
from ledger_core.ach_tran_codes import CONFIGURATION
from ledger_core.ach_workflows import AchRefusalCode, State, Task, Workflow, WorkflowExecution
from tests.ach.conftest import create_params

AT = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
EXECUTION_ID = uuid.UUID("5a1c0d3e-8b7f-4c2a-9e61-3f0b2d4c6e01")
CUSTOMER = uuid.UUID("5a1c0d3e-8b7f-4c2a-9e61-3f0b2d4c6e02")
CONFIGURATIONS = {CONFIGURATION.config_id: CONFIGURATION}


def _command(task: Task, params: dict[str, Any] | None = None) -> WorkflowCommand:
    return WorkflowCommand(command_id=str(uuid.uuid4()), execution_id=EXECUTION_ID,
                           code=Workflow.PULL, task=task,
                           params=create_params(CUSTOMER) if params is None else params,
                           sent_at=AT)


def _pending(decided: CommandDecided) -> PendingTask:
    assert decided.pending_changed and decided.pending is not None
    return decided.pending


def _outcome(pending: PendingTask, posted: bool, code: str | None = None) -> PostingOutcome:
    return PostingOutcome(posting_command_id=pending.posting_command_id,
                          execution_id=EXECUTION_ID, posted=posted, code=code,
                          message=None if code is None else "refused")


def _created() -> tuple[WorkflowExecution, CommandDecided]:
    pending = _pending(decide_command(None, None, _command(Task.CREATE), CONFIGURATIONS, AT))
    resolved = decide_outcome(None, pending, _outcome(pending, True), CONFIGURATIONS, AT)
    assert resolved.execution is not None
    return resolved.execution, resolved


def test_a_task_is_answered_when_its_posting_posts() -> None:
    create = _command(Task.CREATE)
    decided = decide_command(None, None, create, CONFIGURATIONS, AT)
    pending = _pending(decided)
    assert decided.results == () and decided.execution is None
    assert [p.command_id for p in decided.postings] == [pending.posting_command_id]
    assert posting_execution(pending.posting_command_id) == EXECUTION_ID
    resolved = decide_outcome(None, pending, _outcome(pending, True), CONFIGURATIONS, AT)
    assert resolved.pending_changed and resolved.pending is None
    assert resolved.execution is not None and resolved.execution.state is State.CREATED
    assert [(r.command_id, r.status) for r in resolved.results] == [
        (create.command_id, ResultStatus.ACCEPTED)]


def test_a_duplicate_answer_means_the_posting_had_posted() -> None:
    pending = _pending(decide_command(None, None, _command(Task.CREATE), CONFIGURATIONS, AT))
    resolved = decide_outcome(None, pending, _outcome(pending, False, "transaction_id_duplicate"),
                              CONFIGURATIONS, AT)
    assert resolved.execution is not None
    assert resolved.results[0].status is ResultStatus.ACCEPTED


def test_a_rejected_create_binds_its_params_and_keeps_nothing() -> None:
    pending = _pending(decide_command(None, None, _command(Task.CREATE), CONFIGURATIONS, AT))
    rejected = decide_outcome(None, pending, _outcome(pending, False, "account_unknown"),
                              CONFIGURATIONS, AT)
    assert rejected.execution is None
    assert rejected.results[0].code is AchRefusalCode.ACH_POSTING_REJECTED
    kept = _pending(rejected)
    assert kept.rejected is not None and "account_unknown" in kept.rejected
    other = decide_command(None, kept, _command(Task.CREATE, create_params(CUSTOMER, "9.00")),
                           CONFIGURATIONS, AT)
    assert other.results[0].code is AchRefusalCode.ACH_REPEATED_TASK_PARAMS_DIFFER
    again = decide_command(None, kept, _command(Task.CREATE), CONFIGURATIONS, AT)
    assert _pending(again).rejected is None
    # The same transaction id: the first CREATE's account bound it to its partition.
    assert again.postings[0].command.transaction_id == \
        pending.after.runs[-1].transaction_ids[0]


def test_commands_meanwhile_wait_with_the_task_or_queue_behind_it() -> None:
    execution, _ = _created()
    submit = _command(Task.SUBMIT, {})
    pending = _pending(decide_command(execution, None, submit, CONFIGURATIONS, AT))
    same = _command(Task.SUBMIT, {})
    pending = _pending(decide_command(execution, pending, same, CONFIGURATIONS, AT))
    assert pending.command_ids == (submit.command_id, same.command_id)
    settle, cancel = _command(Task.SETTLE, {}), _command(Task.CANCEL, {})
    for queued in (settle, cancel):
        pending = _pending(decide_command(execution, pending, queued, CONFIGURATIONS, AT))
    assert pending.queued == (settle, cancel)

    resolved = decide_outcome(execution, pending, _outcome(pending, True), CONFIGURATIONS, AT)
    assert resolved.execution is not None and resolved.execution.state is State.SUBMITTED
    statuses = {r.command_id: (r.status, r.code) for r in resolved.results}
    assert statuses == {
        submit.command_id: (ResultStatus.ACCEPTED, None),
        same.command_id: (ResultStatus.ACCEPTED, None),
        # CANCEL waits behind SETTLE, which is now pending.
    }
    waiting = _pending(resolved)
    assert (waiting.task, waiting.command_ids, waiting.queued) == (
        Task.SETTLE, (settle.command_id,), (cancel,))
    settled = decide_outcome(resolved.execution, waiting, _outcome(waiting, True),
                             CONFIGURATIONS, AT)
    assert [(r.command_id, r.status, r.code) for r in settled.results] == [
        (settle.command_id, ResultStatus.ACCEPTED, None),
        (cancel.command_id, ResultStatus.REFUSED, AchRefusalCode.ACH_TRANSITION_INVALID)]
    assert settled.pending_changed and settled.pending is None


def test_the_queue_behind_a_task_is_bounded() -> None:
    execution, _ = _created()
    pending = _pending(decide_command(execution, None, _command(Task.SUBMIT, {}),
                                      CONFIGURATIONS, AT))
    for _ in range(QUEUED_MAX):
        pending = _pending(decide_command(execution, pending, _command(Task.SETTLE, {}),
                                          CONFIGURATIONS, AT))
    refused = decide_command(execution, pending, _command(Task.SETTLE, {}), CONFIGURATIONS, AT)
    assert refused.results[0].code is AchRefusalCode.ACH_TASK_PENDING
    assert not refused.pending_changed


def test_an_answer_for_another_posting_changes_nothing() -> None:
    execution, _ = _created()
    pending = _pending(decide_command(execution, None, _command(Task.SUBMIT, {}),
                                      CONFIGURATIONS, AT))
    stray = PostingOutcome(posting_command_id="ach:other", execution_id=EXECUTION_ID,
                           posted=True)
    assert decide_outcome(execution, pending, stray, CONFIGURATIONS, AT) == CommandDecided()
