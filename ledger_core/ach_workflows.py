"""The ACH origination (ODFI) workflows as pure state machines: PUSH (credits) and PULL (debits).

An execution moves from state to state by tasks. ``decide_task`` takes the execution as it
stands (None before CREATE), the task and its params, and answers with the execution after
the task and the ledger commands the task posts, or with a refusal naming the rule broken.
It reads no clock and no ledger: the time and the ids are arguments, and whether the
customer can afford the entry is the ledger's to judge (a limit on the customer's account)
when the commands are posted.

Each task posts exactly one transaction, through one of the tran codes of
``ledger_core.ach_tran_codes``, under an id derived from the execution id and the task. A
task runs at most once per execution (no state is entered twice), so a task that is sent
again is recognised twice over: the execution answers it with the result it gave the first
time, and the ledger refuses the re-sent command as a duplicate.

The runtime that drives this keeps an execution only once its task's transaction posted:
a rejected posting (the customer's limit, a locked account) leaves the execution where it
was, and a posting answered ``transaction_id_duplicate`` had already posted before a
restart, so the new execution is kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType
from typing import Annotated, Any
from uuid import UUID, uuid5

from pydantic import BeforeValidator, StringConstraints, ValidationError

from ledger_core import ach_tran_codes
from ledger_core.ach_tran_codes import AchConfiguration
from ledger_core.base import LedgerModel
from ledger_core.bounded_fields import JsonObject, Text
from ledger_core.commands import PostTransaction
from ledger_core.money import parse_decimal, to_units
from nacha.codes import RETURN_CODES, SEC_CODES
from nacha.fields import check_digit

__all__ = [
    "ORIGINABLE_SEC_CODES",
    "TRANSITIONS",
    "AccountType",
    "AchEntryMetadata",
    "AchRefusal",
    "AchRefusalCode",
    "CreateParams",
    "ReturnParams",
    "State",
    "Task",
    "TaskDecided",
    "TaskParams",
    "TaskRun",
    "Workflow",
    "WorkflowExecution",
    "allowed_tasks",
    "assign_trace",
    "decide_task",
    "parse_task_params",
    "task_transaction_id",
]


class Workflow(StrEnum):
    """The two ODFI workflows, by Twisp's workflow codes."""

    PUSH = "ACH_PUSH"
    PULL = "ACH_PULL"


class Task(StrEnum):
    """What a client asks of an execution."""

    CREATE = "CREATE"
    SUBMIT = "SUBMIT"
    SETTLE = "SETTLE"
    CANCEL = "CANCEL"
    RETURN = "RETURN"
    REIMBURSE_FEE = "REIMBURSE_FEE"


class State(StrEnum):
    """Where an execution stands: named after the last task it ran."""

    CREATED = "CREATED"
    SUBMITTED = "SUBMITTED"
    SETTLED = "SETTLED"
    CANCELED = "CANCELED"
    RETURNED = "RETURNED"
    FEE_REIMBURSED = "FEE_REIMBURSED"


# From each state (None: no execution yet), the tasks allowed and the state each leads to.
# A PUSH credit is final once transmitted, so SUBMIT settles it and only a RETURN can follow;
# a PULL debit waits on PENDING for SETTLE and may be returned before or after it. A fee is
# reimbursed only after the entry was canceled or returned.
TRANSITIONS: Mapping[Workflow, Mapping[State | None, Mapping[Task, State]]] = MappingProxyType({
    Workflow.PUSH: MappingProxyType({
        None: {Task.CREATE: State.CREATED},
        State.CREATED: {Task.SUBMIT: State.SUBMITTED, Task.CANCEL: State.CANCELED},
        State.SUBMITTED: {Task.RETURN: State.RETURNED},
        State.CANCELED: {Task.REIMBURSE_FEE: State.FEE_REIMBURSED},
        State.RETURNED: {Task.REIMBURSE_FEE: State.FEE_REIMBURSED},
        State.FEE_REIMBURSED: {},
    }),
    Workflow.PULL: MappingProxyType({
        None: {Task.CREATE: State.CREATED},
        State.CREATED: {Task.SUBMIT: State.SUBMITTED, Task.CANCEL: State.CANCELED},
        State.SUBMITTED: {Task.SETTLE: State.SETTLED, Task.RETURN: State.RETURNED},
        State.SETTLED: {Task.RETURN: State.RETURNED},
        State.CANCELED: {Task.REIMBURSE_FEE: State.FEE_REIMBURSED},
        State.RETURNED: {Task.REIMBURSE_FEE: State.FEE_REIMBURSED},
        State.FEE_REIMBURSED: {},
    }),
})


def allowed_tasks(workflow: Workflow, state: State | None) -> frozenset[Task]:
    """The tasks an execution of ``workflow`` in ``state`` takes (None: not created yet)."""
    return frozenset(TRANSITIONS[workflow].get(state, {}))


_WORKFLOW_TASKS = {workflow: frozenset(task for tasks in states.values() for task in tasks)
                   for workflow, states in TRANSITIONS.items()}

# COR entries are notifications of change and move no money; IAT entries need the foreign
# parties' addenda (10-18), which CREATE does not carry.
ORIGINABLE_SEC_CODES = frozenset(SEC_CODES) - {"COR", "IAT"}

# The NACHA amount field holds ten digits of cents.
_AMOUNT_MAX = Decimal("99999999.99")


class AchRefusalCode(StrEnum):
    """Why a task was refused, each named after its rule; checked in declaration order."""

    # The params do not validate for the task (a missing field, one too long for its NACHA
    # field, params given to a task that takes none).
    ACH_PARAMS_INVALID = "ach_params_invalid"
    # A task other than CREATE names an execution that does not exist.
    ACH_EXECUTION_NOT_FOUND = "ach_execution_not_found"
    # The execution belongs to the other workflow.
    ACH_WORKFLOW_MISMATCH = "ach_workflow_mismatch"
    # The workflow has no such task (SETTLE is PULL's only).
    ACH_TASK_NOT_IN_WORKFLOW = "ach_task_not_in_workflow"
    # A task the execution already ran must come with the params it ran with.
    ACH_REPEATED_TASK_PARAMS_DIFFER = "ach_repeated_task_params_differ"
    # The task is not allowed from the execution's state (SUBMIT after CANCEL).
    ACH_TRANSITION_INVALID = "ach_transition_invalid"
    # CREATE needs the configuration its params name.
    ACH_CONFIGURATION_NOT_FOUND = "ach_configuration_not_found"
    ACH_AMOUNT_INVALID = "ach_amount_invalid"
    ACH_FEE_AMOUNT_INVALID = "ach_fee_amount_invalid"
    ACH_ROUTING_NUMBER_INVALID = "ach_routing_number_invalid"
    ACH_SEC_CODE_NOT_ORIGINABLE = "ach_sec_code_not_originable"
    ACH_RETURN_CODE_UNKNOWN = "ach_return_code_unknown"
    # REIMBURSE_FEE on an execution that charged no fee would post nothing.
    ACH_FEE_NOT_CHARGED = "ach_fee_not_charged"
    # A trace number goes only to an entry that was submitted and is still to be sent.
    ACH_TRACE_NOT_SUBMITTED = "ach_trace_not_submitted"
    # An entry goes out once: under one trace number, in one file.
    ACH_TRACE_CONFLICT = "ach_trace_conflict"
    # The runtime's: tasks queue behind one waiting for its posting, up to a bound.
    ACH_TASK_PENDING = "ach_task_pending"
    # The runtime's: the ledger refused the task's posting; the execution stays as it was.
    ACH_POSTING_REJECTED = "ach_posting_rejected"


class AchRefusal(LedgerModel):
    """A refused task: the rule broken, a message naming the state and the task, the field."""

    code: AchRefusalCode
    message: str
    field: str | None = None


def _exact_decimal(value: object) -> Decimal:
    parsed = parse_decimal(value)
    if isinstance(parsed, str):
        raise ValueError(parsed)
    return parsed


# Exact decimals only: a float's binary value is not the amount the sender meant.
Amount = Annotated[Decimal, BeforeValidator(_exact_decimal)]

# What a NACHA field can carry: printable ASCII, at most the field's width, so a CREATE
# accepted today never makes a file that cannot be written later.
_PRINTABLE_ASCII = r"^[ -~]+$"
CompanyName = Annotated[str, StringConstraints(min_length=1, max_length=16,
                                               pattern=_PRINTABLE_ASCII)]
EntryDescription = Annotated[str, StringConstraints(min_length=1, max_length=10,
                                                    pattern=_PRINTABLE_ASCII)]
IndividualName = Annotated[str, StringConstraints(min_length=1, max_length=22,
                                                  pattern=_PRINTABLE_ASCII)]
AccountNumber = Annotated[str, StringConstraints(min_length=1, max_length=17,
                                                 pattern=_PRINTABLE_ASCII)]
IdentificationNumber = Annotated[str, StringConstraints(min_length=1, max_length=15,
                                                        pattern=_PRINTABLE_ASCII)]
RoutingNumber = Annotated[str, StringConstraints(pattern=r"^\d{9}$")]


class AccountType(StrEnum):
    """The receiver's account at the RDFI: it picks the entry's NACHA transaction code."""

    CHECKING = "checking"
    SAVINGS = "savings"


class AchEntryMetadata(LedgerModel):
    """The NACHA batch and entry fields of the entry, beyond the top-level params."""

    company_name: CompanyName | None = None
    company_entry_description: EntryDescription | None = None
    individual_name: IndividualName | None = None
    standard_entry_class_code: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] = "PPD"
    dfi_account_number: AccountNumber | None = None
    identification_number: IdentificationNumber | None = None
    rdfi_identification: Annotated[str, StringConstraints(pattern=r"^\d{8,9}$")] | None = None


class CreateParams(LedgerModel):
    """CREATE's params in Twisp's shape (``configId``, ``accountId``, ...).

    The settlement account, fee account and journal default to the configuration's. A fee
    account of all zeros (Twisp's default) means none was given.
    """

    config_id: UUID
    account_id: UUID
    amount: Amount
    routing_number: RoutingNumber
    account_number: AccountNumber
    account_type: AccountType = AccountType.CHECKING
    individual_name: IndividualName
    entry_description: EntryDescription
    effective: date
    correlation_id: Text
    settlement_account_id: UUID | None = None
    journal_id: UUID | None = None
    fee_account_id: UUID | None = None
    fee_amount: Amount = Decimal(0)
    metadata: JsonObject | None = None
    entry_metadata: AchEntryMetadata = AchEntryMetadata()


class ReturnParams(LedgerModel):
    """RETURN's params: the NACHA return reason code."""

    return_code: Annotated[str, StringConstraints(pattern=r"^R\d{2}$")]


TaskParams = CreateParams | ReturnParams | None

_PARAMS_MODEL: Mapping[Task, type[CreateParams] | type[ReturnParams]] = {
    Task.CREATE: CreateParams, Task.RETURN: ReturnParams}


def parse_task_params(task: Task, payload: Mapping[str, Any]) -> TaskParams | AchRefusal:
    """Validate the params a client sent with ``task`` (camelCase or snake_case keys).

    SUBMIT, SETTLE, CANCEL and REIMBURSE_FEE take none: their params are ``{}``. SUBMIT
    queues the entry for the next generated file, which gives it its trace number
    (``assign_trace``).
    """
    model = _PARAMS_MODEL.get(task)
    if model is None:
        if payload:
            return AchRefusal(code=AchRefusalCode.ACH_PARAMS_INVALID,
                              message=f"{task} takes no params, got {sorted(payload)}",
                              field="params")
        return None
    try:
        return model.model_validate(dict(payload))
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        return AchRefusal(code=AchRefusalCode.ACH_PARAMS_INVALID,
                          message=f"{task} params are invalid: {field}: {first['msg']}",
                          field=f"params.{field}")


class TaskRun(LedgerModel):
    """One task an execution ran: from which state, into which, and what it posted."""

    task: Task
    from_state: State | None
    state: State
    params: ReturnParams | None = None
    transaction_ids: tuple[UUID, ...]
    at: datetime


class WorkflowExecution(LedgerModel):
    """An execution of a workflow: its CREATE params and what they resolved to under the
    configuration, its state, the trace number and file its entry went out under once a
    generated file took it, and every task it ran."""

    execution_id: UUID
    workflow: Workflow
    state: State
    params: CreateParams
    config_id: UUID
    config_version: int
    journal_id: UUID
    settlement_account_id: UUID
    fee_account_id: UUID
    trace_number: str | None = None
    file_id: UUID | None = None
    return_code: str | None = None
    runs: tuple[TaskRun, ...]

    @property
    def transaction_ids(self) -> tuple[UUID, ...]:
        """The ids of every ledger transaction the execution produced, in task order."""
        return tuple(tid for run in self.runs for tid in run.transaction_ids)

    def run_of(self, task: Task) -> TaskRun | None:
        """The run of ``task``, if the execution ran it."""
        return next((run for run in self.runs if run.task is task), None)


class TaskDecided(LedgerModel):
    """The execution after the task and the commands it posts. ``repeated``: the execution
    had already run the task, so nothing changed and the commands are the first run's."""

    execution: WorkflowExecution
    commands: tuple[PostTransaction, ...]
    repeated: bool = False


def task_transaction_id(execution_id: UUID, task: Task) -> UUID:
    """The id of the transaction ``task`` posts for the execution (the same on every call)."""
    return uuid5(execution_id, f"ach:{task.value}")


def decide_task(execution: WorkflowExecution | None, task: Task, params: TaskParams, *,
                execution_id: UUID, workflow: Workflow,
                configuration: AchConfiguration | None = None,
                at: datetime) -> TaskDecided | AchRefusal:
    """Decide ``task`` on ``execution`` (None before CREATE) for a client that named
    ``execution_id`` and ``workflow``; ``configuration`` is the one CREATE's params name
    (None when it does not exist), ``at`` the time of the decision. An execution whose id
    is not ``execution_id`` is the caller's mistake, not the client's, and raises."""
    if execution is not None and execution.execution_id != execution_id:
        raise ValueError(f"execution {execution.execution_id} given for {execution_id}")
    expected = _PARAMS_MODEL.get(task)
    if (params is not None) if expected is None else not isinstance(params, expected):
        wanted = "no params" if expected is None else expected.__name__
        return _refuse(AchRefusalCode.ACH_PARAMS_INVALID,
                       f"{task} takes {wanted}, got {type(params).__name__}", "params")
    if execution is None and task is not Task.CREATE:
        return _refuse(AchRefusalCode.ACH_EXECUTION_NOT_FOUND,
                       f"{task} names execution {execution_id}, which does not exist",
                       "executionId")
    if execution is not None and execution.workflow is not workflow:
        return _refuse(AchRefusalCode.ACH_WORKFLOW_MISMATCH,
                       f"execution {execution_id} is an {execution.workflow} execution, "
                       f"not {workflow}", "code")
    if task not in _WORKFLOW_TASKS[workflow]:
        return _refuse(AchRefusalCode.ACH_TASK_NOT_IN_WORKFLOW,
                       f"{task} is not a task of {workflow}", "task")
    if execution is not None:
        run = execution.run_of(task)
        if run is not None:
            return _repeated(execution, run, params)
    state = None if execution is None else execution.state
    next_state = TRANSITIONS[workflow][state].get(task)
    if next_state is None:
        assert execution is not None, "CREATE is always allowed before an execution exists"
        return _refuse(AchRefusalCode.ACH_TRANSITION_INVALID,
                       _transition_message(execution, task), "task")
    if execution is None:
        assert isinstance(params, CreateParams)
        created = _created(params, execution_id, workflow, configuration, at)
        if isinstance(created, AchRefusal):
            return created
        return TaskDecided(execution=created,
                           commands=(_command(created, Task.CREATE, None, None),))
    return _advance(execution, task, next_state, params, at)


def _refuse(code: AchRefusalCode, message: str, field: str | None = None) -> AchRefusal:
    return AchRefusal(code=code, message=message, field=field)


def _transition_message(execution: WorkflowExecution, task: Task) -> str:
    allowed = sorted(allowed_tasks(execution.workflow, execution.state))
    return (f"{task} after {execution.runs[-1].task}: an {execution.workflow} execution in "
            f"state {execution.state} takes "
            f"{' or '.join(allowed) if allowed else 'no further task'}")


def _repeated(execution: WorkflowExecution, run: TaskRun,
              params: TaskParams) -> TaskDecided | AchRefusal:
    ran_with = execution.params if run.task is Task.CREATE else run.params
    if params != ran_with:
        return _refuse(AchRefusalCode.ACH_REPEATED_TASK_PARAMS_DIFFER,
                       f"execution {execution.execution_id} already ran {run.task} with "
                       "other params", "params")
    command = _command(execution, run.task, run.from_state, run.params)
    return TaskDecided(execution=execution, commands=(command,), repeated=True)


_NIL_UUID = UUID(int=0)


def _created(params: CreateParams, execution_id: UUID, workflow: Workflow,
             configuration: AchConfiguration | None,
             at: datetime) -> WorkflowExecution | AchRefusal:
    if configuration is None or configuration.config_id != params.config_id:
        return _refuse(AchRefusalCode.ACH_CONFIGURATION_NOT_FOUND,
                       f"CREATE names configuration {params.config_id}, which does not exist",
                       "params.configId")
    problem = _create_problem(params)
    if problem is not None:
        return problem
    fee_account_id = params.fee_account_id
    if fee_account_id is None or fee_account_id == _NIL_UUID:
        fee_account_id = configuration.fee_account_id
    return WorkflowExecution(
        execution_id=execution_id, workflow=workflow, state=State.CREATED, params=params,
        config_id=configuration.config_id, config_version=configuration.version,
        journal_id=params.journal_id or configuration.journal_id,
        settlement_account_id=(params.settlement_account_id
                               or configuration.settlement_account_id),
        fee_account_id=fee_account_id,
        runs=(TaskRun(task=Task.CREATE, from_state=None, state=State.CREATED,
                      transaction_ids=(task_transaction_id(execution_id, Task.CREATE),),
                      at=at),))


def _create_problem(params: CreateParams) -> AchRefusal | None:
    amount = to_units(params.amount, "USD")
    if isinstance(amount, str) or not Decimal(0) < amount <= _AMOUNT_MAX:
        return _refuse(AchRefusalCode.ACH_AMOUNT_INVALID,
                       f"amount {params.amount} is not a whole number of cents above 0 and "
                       f"at most {_AMOUNT_MAX}", "params.amount")
    fee = to_units(params.fee_amount, "USD")
    if isinstance(fee, str) or not Decimal(0) <= fee <= _AMOUNT_MAX:
        return _refuse(AchRefusalCode.ACH_FEE_AMOUNT_INVALID,
                       f"feeAmount {params.fee_amount} is not a whole number of cents from 0 "
                       f"to {_AMOUNT_MAX}", "params.feeAmount")
    routing = params.routing_number
    if check_digit(routing[:8]) != int(routing[8]):
        return _refuse(AchRefusalCode.ACH_ROUTING_NUMBER_INVALID,
                       f"routingNumber {routing} fails its check digit (should end in "
                       f"{check_digit(routing[:8])})", "params.routingNumber")
    sec_code = params.entry_metadata.standard_entry_class_code
    if sec_code not in ORIGINABLE_SEC_CODES:
        return _refuse(AchRefusalCode.ACH_SEC_CODE_NOT_ORIGINABLE,
                       f"standardEntryClassCode {sec_code} is not one these workflows "
                       f"originate ({', '.join(sorted(ORIGINABLE_SEC_CODES))})",
                       "params.entryMetadata.standardEntryClassCode")
    return None


def _advance(execution: WorkflowExecution, task: Task, next_state: State,
             params: TaskParams, at: datetime) -> TaskDecided | AchRefusal:
    run_params = params if isinstance(params, ReturnParams) else None
    if isinstance(params, ReturnParams) and params.return_code not in RETURN_CODES:
        return _refuse(AchRefusalCode.ACH_RETURN_CODE_UNKNOWN,
                       f"returnCode {params.return_code} is not a NACHA return code",
                       "params.returnCode")
    if task is Task.REIMBURSE_FEE and not execution.params.fee_amount:
        return _refuse(AchRefusalCode.ACH_FEE_NOT_CHARGED,
                       f"REIMBURSE_FEE after {execution.runs[-1].task}: execution "
                       f"{execution.execution_id} charged no fee", "task")
    run = TaskRun(task=task, from_state=execution.state, state=next_state, params=run_params,
                  transaction_ids=(task_transaction_id(execution.execution_id, task),), at=at)
    advanced = execution.model_copy(update={
        "state": next_state,
        "runs": (*execution.runs, run),
        "return_code": (params.return_code if isinstance(params, ReturnParams)
                        else execution.return_code),
    })
    return TaskDecided(execution=advanced,
                       commands=(_command(advanced, task, execution.state, run_params),))


def _tran_code(workflow: Workflow, task: Task, from_state: State | None) -> str:
    if task is Task.REIMBURSE_FEE:
        return ach_tran_codes.ACH_FEE_REIMBURSE.code
    if workflow is Workflow.PULL and task is Task.RETURN:
        # A debit returned before SETTLE is taken back from PENDING, after it from SETTLED.
        returned = (ach_tran_codes.ACH_PULL_RETURN_SETTLED if from_state is State.SETTLED
                    else ach_tran_codes.ACH_PULL_RETURN_PENDING)
        return returned.code
    return f"{workflow.value}_{task.value}"


def _command(execution: WorkflowExecution, task: Task, from_state: State | None,
             params: ReturnParams | None) -> PostTransaction:
    """The command ``task`` posts: a function of the CREATE params, the task, the state it
    ran from and its own params only, so a repeated task rebuilds exactly the same one."""
    create = execution.params
    metadata: dict[str, Any] = {"workflow": execution.workflow.value, "task": task.value,
                                "correlationId": create.correlation_id,
                                "configId": str(execution.config_id),
                                "configVersion": execution.config_version}
    if isinstance(params, ReturnParams):
        metadata["returnCode"] = params.return_code
        if execution.trace_number is not None:
            metadata["traceNumber"] = execution.trace_number
    if create.metadata is not None:
        metadata["metadata"] = create.metadata
    tran_params: dict[str, Any] = {
        "account": str(create.account_id), "journal": str(execution.journal_id),
        "amount": str(create.amount), "executionId": str(execution.execution_id),
        "metadata": metadata,
    }
    if task is Task.REIMBURSE_FEE:
        tran_params |= {"fee": str(execution.fee_account_id), "amount": str(create.fee_amount)}
    else:
        tran_params["settlement"] = str(execution.settlement_account_id)
    if task is Task.CREATE:
        tran_params |= {"fee": str(execution.fee_account_id),
                        "feeAmount": str(create.fee_amount)}
    return PostTransaction(transaction_id=task_transaction_id(execution.execution_id, task),
                           tran_code=_tran_code(execution.workflow, task, from_state),
                           params=tran_params)


def assign_trace(execution: WorkflowExecution, trace_number: str,
                 file_id: UUID) -> WorkflowExecution | AchRefusal | None:
    """The execution with the trace number a generated file gave its entry; None when it
    already has exactly that one. Only a SUBMITTED entry goes into a file, and only once."""
    if (execution.trace_number, execution.file_id) == (trace_number, file_id):
        return None
    if execution.trace_number is not None:
        return _refuse(AchRefusalCode.ACH_TRACE_CONFLICT,
                       f"execution {execution.execution_id} went out under trace number "
                       f"{execution.trace_number} in file {execution.file_id}", "traceNumber")
    if execution.state is not State.SUBMITTED:
        return _refuse(AchRefusalCode.ACH_TRACE_NOT_SUBMITTED,
                       f"execution {execution.execution_id} is {execution.state}: only a "
                       "SUBMITTED entry goes into a file", "executionId")
    return execution.model_copy(update={"trace_number": trace_number, "file_id": file_id})
