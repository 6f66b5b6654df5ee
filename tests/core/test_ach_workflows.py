"""The ACH origination workflows on the pure ledger: every transition, the customer's layered
balances at each step, refusals, repeats and fees."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger_core import (
    Account,
    Balance,
    Layer,
    MemoryLedger,
    Posted,
    PostTransaction,
    Rejected,
    RejectionCode,
    TranCode,
    VelocityLimit,
)
from ledger_core import ach_tran_codes as ach
from ledger_core.ach_tran_codes import AchConfiguration
from ledger_core.ach_workflows import (
    AchRefusal,
    AchRefusalCode,
    CreateParams,
    ReturnParams,
    State,
    Task,
    TaskDecided,
    TaskParams,
    Workflow,
    WorkflowExecution,
    allowed_tasks,
    assign_trace,
    decide_task,
    parse_task_params,
    task_transaction_id,
)

CUSTOMER = Account.model_validate({
    "accountId": "5a1c0d3e-8b7f-4c2a-9e61-3f0b2d4c6a20", "code": "ACH.CUSTOMER",
    "name": "ACH customer", "description": "A customer's deposit account"})
CASH = Account.model_validate({
    "accountId": "5a1c0d3e-8b7f-4c2a-9e61-3f0b2d4c6a21", "code": "ACH.CASH", "name": "Cash",
    "normalBalanceType": "DEBIT"})
# How the customer's money got there, outside the ACH flow: a cash deposit on SETTLED.
FUND = TranCode.model_validate({
    "tranCodeId": "5a1c0d3e-8b7f-4c2a-9e61-3f0b2d4c6b20", "code": "ACH_TEST_FUND",
    "params": [{"name": "amount", "type": "DECIMAL"}],
    "transaction": {"journalId": f"uuid('{ach.JOURNAL.journal_id}')"},
    "entries": [{"accountId": f"uuid('{account}')", "units": "params.amount",
                 "currency": "'USD'", "direction": direction}
                for account, direction in ((CASH.account_id, "DEBIT"),
                                           (CUSTOMER.account_id, "CREDIT"))]})
FUNDED = Decimal("1000.00")
EXECUTION_ID = UUID("daf20572-c1b1-11f0-8b14-069b540ea27c")
ZERO = Decimal(0)
# The time every task is decided and every command posted at.
_AT = datetime.fromisoformat("2025-11-14T15:00:00+00:00")


def _ledger() -> MemoryLedger:
    ledger = MemoryLedger()
    ach.install(ledger)
    ledger.add_account(CUSTOMER)
    ledger.add_account(CASH)
    ledger.add_tran_code(FUND)
    fund = PostTransaction.model_validate({
        "transactionId": "5a1c0d3e-8b7f-4c2a-9e61-3f0b2d4c6c20", "tranCode": "ACH_TEST_FUND",
        "params": {"amount": str(FUNDED)}})
    assert isinstance(ledger.post(fund, _AT), Posted)
    return ledger


def _create(amount: str = "150.00", fee: str = "0.25", **extra: Any) -> CreateParams:
    params = parse_task_params(Task.CREATE, {
        "configId": str(ach.CONFIGURATION.config_id), "accountId": str(CUSTOMER.account_id),
        "amount": amount, "feeAmount": fee, "routingNumber": "026009593",
        "accountNumber": "12345678901234567", "accountType": "checking",
        "individualName": "CLARK KENT", "entryDescription": "XFER", "effective": "2025-11-14",
        "correlationId": "payroll-batch-001", **extra})
    assert isinstance(params, CreateParams), params
    return params


TRACE = "026009590000001"
FILE_ID = UUID("5a1c0d3e-8b7f-4c2a-9e61-3f0b2d4c6f01")
RETURN = ReturnParams(return_code="R01")
TASK_PARAMS: dict[Task, TaskParams] = {
    Task.CREATE: _create(), Task.SUBMIT: None, Task.RETURN: RETURN,
    Task.SETTLE: None, Task.CANCEL: None, Task.REIMBURSE_FEE: None}


def _decide(execution: WorkflowExecution | None, workflow: Workflow, task: Task,
            params: TaskParams = None,
            configuration: AchConfiguration | None = ach.CONFIGURATION,
            ) -> TaskDecided | AchRefusal:
    """Decide ``task``; without params, with the task's usual ones (TASK_PARAMS)."""
    return decide_task(execution, task, params or TASK_PARAMS[task],
                       execution_id=EXECUTION_ID, workflow=workflow,
                       configuration=configuration, at=_AT)


def _balance(ledger: MemoryLedger, account: UUID) -> Balance:
    balance = ledger.balance(account, ach.JOURNAL.journal_id, "USD")
    assert balance is not None
    return balance


def _available(ledger: MemoryLedger) -> tuple[Decimal, Decimal, Decimal]:
    """The customer's available(SETTLED), available(PENDING), available(ENCUMBRANCE)."""
    balance = _balance(ledger, CUSTOMER.account_id)
    return (balance.available(Layer.SETTLED).normal_balance,
            balance.available(Layer.PENDING).normal_balance,
            balance.available(Layer.ENCUMBRANCE).normal_balance)


def _layers(ledger: MemoryLedger, account: UUID) -> tuple[Decimal, Decimal, Decimal]:
    """The normal balance of each layer alone: SETTLED, PENDING, ENCUMBRANCE."""
    balance = ledger.balance(account, ach.JOURNAL.journal_id, "USD")
    if balance is None:
        return ZERO, ZERO, ZERO
    return (balance.settled.normal_balance, balance.pending.normal_balance,
            balance.encumbrance.normal_balance)


def _run(ledger: MemoryLedger, execution: WorkflowExecution | None, workflow: Workflow,
         task: Task, params: TaskParams = None) -> WorkflowExecution:
    decided = _decide(execution, workflow, task, params)
    assert isinstance(decided, TaskDecided), decided
    assert not decided.repeated
    for command in decided.commands:
        posted = ledger.post(command, _AT)
        assert isinstance(posted, Posted), posted
    return decided.execution


def _d(text: str) -> Decimal:
    return Decimal(text)


# (task, customer's available (SETTLED, PENDING, ENCUMBRANCE), the settlement account's
# layers (SETTLED, PENDING, ENCUMBRANCE)); the customer starts with 1000.00 settled, the
# entry is 150.00 (PUSH) or 250.00 (PULL) and the fee 0.25.
Step = tuple[Task, tuple[str, str, str], tuple[str, str, str]]
FLOWS: dict[str, tuple[Workflow, str, list[Step]]] = {
    "push submitted, returned, fee reimbursed": (Workflow.PUSH, "150.00", [
        (Task.CREATE, ("999.75", "999.75", "849.75"), ("0", "0", "-150.00")),
        (Task.SUBMIT, ("849.75", "849.75", "849.75"), ("-150.00", "0", "0")),
        (Task.RETURN, ("999.75", "999.75", "999.75"), ("0", "0", "0")),
        (Task.REIMBURSE_FEE, ("1000.00", "1000.00", "1000.00"), ("0", "0", "0")),
    ]),
    "push canceled, fee reimbursed": (Workflow.PUSH, "150.00", [
        (Task.CREATE, ("999.75", "999.75", "849.75"), ("0", "0", "-150.00")),
        (Task.CANCEL, ("999.75", "999.75", "999.75"), ("0", "0", "0")),
        (Task.REIMBURSE_FEE, ("1000.00", "1000.00", "1000.00"), ("0", "0", "0")),
    ]),
    "pull submitted, settled, returned after settle": (Workflow.PULL, "250.00", [
        (Task.CREATE, ("999.75", "999.75", "1249.75"), ("0", "0", "250.00")),
        (Task.SUBMIT, ("999.75", "1249.75", "1249.75"), ("0", "250.00", "0")),
        (Task.SETTLE, ("1249.75", "1249.75", "1249.75"), ("250.00", "0", "0")),
        (Task.RETURN, ("999.75", "999.75", "999.75"), ("0", "0", "0")),
        (Task.REIMBURSE_FEE, ("1000.00", "1000.00", "1000.00"), ("0", "0", "0")),
    ]),
    "pull submitted, returned before settle": (Workflow.PULL, "250.00", [
        (Task.CREATE, ("999.75", "999.75", "1249.75"), ("0", "0", "250.00")),
        (Task.SUBMIT, ("999.75", "1249.75", "1249.75"), ("0", "250.00", "0")),
        (Task.RETURN, ("999.75", "999.75", "999.75"), ("0", "0", "0")),
        (Task.REIMBURSE_FEE, ("1000.00", "1000.00", "1000.00"), ("0", "0", "0")),
    ]),
    "pull canceled, fee reimbursed": (Workflow.PULL, "250.00", [
        (Task.CREATE, ("999.75", "999.75", "1249.75"), ("0", "0", "250.00")),
        (Task.CANCEL, ("999.75", "999.75", "999.75"), ("0", "0", "0")),
        (Task.REIMBURSE_FEE, ("1000.00", "1000.00", "1000.00"), ("0", "0", "0")),
    ]),
    "pull settled and kept": (Workflow.PULL, "250.00", [
        (Task.CREATE, ("999.75", "999.75", "1249.75"), ("0", "0", "250.00")),
        (Task.SUBMIT, ("999.75", "1249.75", "1249.75"), ("0", "250.00", "0")),
        (Task.SETTLE, ("1249.75", "1249.75", "1249.75"), ("250.00", "0", "0")),
    ]),
}


@pytest.mark.parametrize("flow", sorted(FLOWS))
def test_each_step_moves_the_layers_the_workflow_says(flow: str) -> None:
    """After every task, the customer's available balances and the settlement account's
    layers are exactly the step's; the fee account holds the fee until it is reimbursed."""
    workflow, amount, steps = FLOWS[flow]
    ledger = _ledger()
    execution = None
    for task, available, settlement in steps:
        params = _create(amount) if task is Task.CREATE else None
        execution = _run(ledger, execution, workflow, task, params)
        assert _available(ledger) == tuple(map(_d, available)), task
        assert _layers(ledger, ach.SETTLEMENT.account_id) == tuple(map(_d, settlement)), task
        fee = ZERO if task is Task.REIMBURSE_FEE else _d("0.25")
        assert _layers(ledger, ach.FEE.account_id) == (fee, ZERO, ZERO), task


def test_a_pull_returned_before_settle_is_taken_back_from_pending() -> None:
    """Returned before SETTLE, a debit's PENDING legs are negated; after it, its SETTLED
    legs: the return comes off the layer the money was on."""
    for before_settle in (True, False):
        ledger = _ledger()
        execution = None
        for task in (Task.CREATE, Task.SUBMIT, *(() if before_settle else (Task.SETTLE,))):
            execution = _run(ledger, execution, Workflow.PULL, task)
        decided = _decide(execution, Workflow.PULL, Task.RETURN)
        assert isinstance(decided, TaskDecided)
        [command] = decided.commands
        posted = ledger.post(command, _AT)
        assert isinstance(posted, Posted)
        layer = Layer.PENDING if before_settle else Layer.SETTLED
        assert [(e.account_id, e.layer, e.direction.value, e.units) for e in posted.entries] == [
            (ach.SETTLEMENT.account_id, layer, "DEBIT", _d("-150.00")),
            (CUSTOMER.account_id, layer, "CREDIT", _d("-150.00"))]


# The transitions as seed 003 draws them: from each state, the tasks allowed and where they
# lead; every other task of the workflow is refused from that state.
VALID: dict[Workflow, dict[State | None, dict[Task, State]]] = {
    Workflow.PUSH: {
        None: {Task.CREATE: State.CREATED},
        State.CREATED: {Task.SUBMIT: State.SUBMITTED, Task.CANCEL: State.CANCELED},
        State.SUBMITTED: {Task.RETURN: State.RETURNED},
        State.CANCELED: {Task.REIMBURSE_FEE: State.FEE_REIMBURSED},
        State.RETURNED: {Task.REIMBURSE_FEE: State.FEE_REIMBURSED},
        State.FEE_REIMBURSED: {},
    },
    Workflow.PULL: {
        None: {Task.CREATE: State.CREATED},
        State.CREATED: {Task.SUBMIT: State.SUBMITTED, Task.CANCEL: State.CANCELED},
        State.SUBMITTED: {Task.SETTLE: State.SETTLED, Task.RETURN: State.RETURNED},
        State.SETTLED: {Task.RETURN: State.RETURNED},
        State.CANCELED: {Task.REIMBURSE_FEE: State.FEE_REIMBURSED},
        State.RETURNED: {Task.REIMBURSE_FEE: State.FEE_REIMBURSED},
        State.FEE_REIMBURSED: {},
    },
}
PATHS: dict[Workflow, dict[State, list[Task]]] = {
    Workflow.PUSH: {
        State.CREATED: [Task.CREATE],
        State.SUBMITTED: [Task.CREATE, Task.SUBMIT],
        State.CANCELED: [Task.CREATE, Task.CANCEL],
        State.RETURNED: [Task.CREATE, Task.SUBMIT, Task.RETURN],
        State.FEE_REIMBURSED: [Task.CREATE, Task.CANCEL, Task.REIMBURSE_FEE],
    },
    Workflow.PULL: {
        State.CREATED: [Task.CREATE],
        State.SUBMITTED: [Task.CREATE, Task.SUBMIT],
        State.SETTLED: [Task.CREATE, Task.SUBMIT, Task.SETTLE],
        State.CANCELED: [Task.CREATE, Task.CANCEL],
        State.RETURNED: [Task.CREATE, Task.SUBMIT, Task.SETTLE, Task.RETURN],
        State.FEE_REIMBURSED: [Task.CREATE, Task.SUBMIT, Task.RETURN, Task.REIMBURSE_FEE],
    },
}
WORKFLOW_TASKS = {
    Workflow.PUSH: [Task.CREATE, Task.SUBMIT, Task.CANCEL, Task.RETURN, Task.REIMBURSE_FEE],
    Workflow.PULL: list(Task),
}


def _reached(workflow: Workflow, path: Sequence[Task]) -> WorkflowExecution:
    execution = None
    for task in path:
        decided = _decide(execution, workflow, task)
        assert isinstance(decided, TaskDecided)
        execution = decided.execution
    assert execution is not None
    return execution


INVALID = [
    (workflow, state, task)
    for workflow, paths in PATHS.items()
    for state, path in paths.items()
    for task in WORKFLOW_TASKS[workflow]
    if task not in VALID[workflow][state] and task not in path
]


def test_the_allowed_tasks_are_the_seed_transitions() -> None:
    """allowed_tasks answers the table above from every state; what it leaves out is the
    refused table below: 9 untried tasks for PUSH, 13 for PULL."""
    for workflow, states in VALID.items():
        for state, tasks in states.items():
            assert allowed_tasks(workflow, state) == frozenset(tasks), (workflow, state)
    assert len(INVALID) == 22


@pytest.mark.parametrize(("workflow", "state", "task"), INVALID)
def test_an_invalid_transition_is_refused(workflow: Workflow, state: State, task: Task) -> None:
    """A task the state does not allow is refused by name: the task, the last task run, the
    state and what it would take."""
    execution = _reached(workflow, PATHS[workflow][state])
    assert execution.state is state
    refused = _decide(execution, workflow, task)
    assert isinstance(refused, AchRefusal)
    assert refused.code is AchRefusalCode.ACH_TRANSITION_INVALID
    last = PATHS[workflow][state][-1]
    assert refused.message.startswith(f"{task} after {last}: ")
    assert f"in state {state}" in refused.message


def test_submit_after_cancel_says_so() -> None:
    """The example the seed gives, word for word in the message."""
    execution = _reached(Workflow.PUSH, [Task.CREATE, Task.CANCEL])
    refused = _decide(execution, Workflow.PUSH, Task.SUBMIT)
    assert isinstance(refused, AchRefusal)
    assert refused.code == "ach_transition_invalid"
    assert refused.message == ("SUBMIT after CANCEL: an ACH_PUSH execution in state CANCELED "
                               "takes REIMBURSE_FEE")


@pytest.mark.parametrize("workflow", list(Workflow))
def test_every_valid_transition_leads_where_the_table_says(workflow: Workflow) -> None:
    """From each reachable state, each allowed task is accepted into its next state."""
    for state, path in PATHS[workflow].items():
        for task, next_state in VALID[workflow][state].items():
            decided = _decide(_reached(workflow, path), workflow, task)
            assert isinstance(decided, TaskDecided), (state, task)
            assert decided.execution.state is next_state
            assert not decided.repeated


def test_settle_is_no_task_of_push_and_tasks_need_an_execution() -> None:
    """SETTLE on a PUSH, a task for the other workflow's execution, a task before CREATE."""
    execution = _reached(Workflow.PUSH, [Task.CREATE, Task.SUBMIT])
    refused = _decide(execution, Workflow.PUSH, Task.SETTLE)
    assert isinstance(refused, AchRefusal)
    assert refused.code is AchRefusalCode.ACH_TASK_NOT_IN_WORKFLOW
    refused = _decide(execution, Workflow.PULL, Task.SETTLE)
    assert isinstance(refused, AchRefusal)
    assert refused.code is AchRefusalCode.ACH_WORKFLOW_MISMATCH
    refused = _decide(None, Workflow.PULL, Task.SUBMIT)
    assert isinstance(refused, AchRefusal)
    assert refused.code is AchRefusalCode.ACH_EXECUTION_NOT_FOUND


def test_a_repeated_task_posts_nothing_new() -> None:
    """A task sent again answers with its first result: the same execution and commands,
    which the ledger refuses as duplicates, so no balance moves."""
    ledger = _ledger()
    created = _run(ledger, None, Workflow.PUSH, Task.CREATE)
    submitted = _run(ledger, created, Workflow.PUSH, Task.SUBMIT)
    before = (_available(ledger), len(ledger.entries_log))
    first_submit = _decide(created, Workflow.PUSH, Task.SUBMIT)
    for task in (Task.SUBMIT, Task.CREATE):
        again = _decide(submitted, Workflow.PUSH, task)
        assert isinstance(again, TaskDecided)
        assert again.repeated
        assert again.execution == submitted
        for command in again.commands:
            answer = ledger.post(command, _AT)
            assert isinstance(answer, Rejected)
            assert answer.code is RejectionCode.TRANSACTION_ID_DUPLICATE
    assert isinstance(first_submit, TaskDecided)
    again = _decide(submitted, Workflow.PUSH, Task.SUBMIT)
    assert isinstance(again, TaskDecided)
    assert again.commands == first_submit.commands
    assert (_available(ledger), len(ledger.entries_log)) == before


def test_a_repeated_task_with_other_params_is_refused() -> None:
    """The same execution id with another amount, or RETURN with another return code."""
    returned = _reached(Workflow.PUSH, [Task.CREATE, Task.SUBMIT, Task.RETURN])
    for task, params in ((Task.CREATE, _create("150.01")),
                         (Task.RETURN, ReturnParams(return_code="R02"))):
        refused = _decide(returned, Workflow.PUSH, task, params)
        assert isinstance(refused, AchRefusal)
        assert refused.code is AchRefusalCode.ACH_REPEATED_TASK_PARAMS_DIFFER


def test_the_execution_records_what_it_did() -> None:
    """Config version, trace number, return code, and each task's transaction, posted with
    the execution id as its correlation id and the task in its metadata."""
    ledger = _ledger()
    configuration = ach.CONFIGURATION.model_copy(update={"version": 3})
    decided = _decide(None, Workflow.PUSH, Task.CREATE, configuration=configuration)
    assert isinstance(decided, TaskDecided)
    execution = decided.execution
    assert (execution.config_id, execution.config_version) == (configuration.config_id, 3)
    assert execution.trace_number is None
    assert isinstance(ledger.post(decided.commands[0], _AT), Posted)
    execution = _run(ledger, execution, Workflow.PUSH, Task.SUBMIT)
    traced = assign_trace(execution, TRACE, FILE_ID)
    assert isinstance(traced, WorkflowExecution)
    execution = _run(ledger, traced, Workflow.PUSH, Task.RETURN)
    assert (execution.trace_number, execution.file_id) == (TRACE, FILE_ID)
    assert execution.return_code == "R01"
    assert [run.task for run in execution.runs] == [Task.CREATE, Task.SUBMIT, Task.RETURN]
    assert execution.transaction_ids == tuple(
        task_transaction_id(EXECUTION_ID, task)
        for task in (Task.CREATE, Task.SUBMIT, Task.RETURN))
    assert len(set(execution.transaction_ids)) == 3
    posted = [ledger.posted(tid) for tid in execution.transaction_ids]
    assert [p.transaction.tran_code for p in posted if p is not None] == [
        "ACH_PUSH_CREATE", "ACH_PUSH_SUBMIT", "ACH_PUSH_RETURN"]
    for record in posted:
        assert record is not None
        assert record.transaction.correlation_id == str(EXECUTION_ID)
        assert record.transaction.journal_id == ach.JOURNAL.journal_id
    submit, returned = posted[1], posted[2]
    assert submit is not None and returned is not None
    assert submit.transaction.metadata is not None
    assert submit.transaction.metadata["correlationId"] == "payroll-batch-001"
    assert submit.transaction.metadata["configVersion"] == 3
    assert returned.transaction.metadata is not None
    assert returned.transaction.metadata["traceNumber"] == TRACE
    assert returned.transaction.metadata["returnCode"] == "R01"


def test_no_fee_writes_no_fee_legs_and_cannot_be_reimbursed() -> None:
    """With feeAmount 0, CREATE writes the two encumbrance legs only, and REIMBURSE_FEE
    after a cancel is refused: it would post nothing."""
    ledger = _ledger()
    decided = _decide(None, Workflow.PUSH, Task.CREATE, _create(fee="0"))
    assert isinstance(decided, TaskDecided)
    posted = ledger.post(decided.commands[0], _AT)
    assert isinstance(posted, Posted)
    assert [e.layer for e in posted.entries] == [Layer.ENCUMBRANCE, Layer.ENCUMBRANCE]
    assert _available(ledger) == (FUNDED, FUNDED, _d("850.00"))
    canceled = _run(ledger, decided.execution, Workflow.PUSH, Task.CANCEL)
    refused = _decide(canceled, Workflow.PUSH, Task.REIMBURSE_FEE)
    assert isinstance(refused, AchRefusal)
    assert refused.code is AchRefusalCode.ACH_FEE_NOT_CHARGED


OTHER_FEE = UUID("5a1c0d3e-8b7f-4c2a-9e61-3f0b2d4c6a30")


@pytest.mark.parametrize(("given", "charged"), [
    ({}, ach.FEE.account_id),
    ({"feeAccountId": "00000000-0000-0000-0000-000000000000"}, ach.FEE.account_id),
    ({"feeAccountId": str(OTHER_FEE)}, OTHER_FEE),
])
def test_the_fee_goes_to_the_configured_or_the_given_account(
        given: dict[str, str], charged: UUID) -> None:
    """The fee posts on SETTLED at CREATE, to the configuration's fee account unless CREATE
    names another (Twisp's all-zero default names none); REIMBURSE_FEE gives it back."""
    ledger = _ledger()
    ledger.add_account(Account(account_id=OTHER_FEE, code="ACH.FEE.OTHER", name="Other fees"))
    created = _run(ledger, None, Workflow.PULL, Task.CREATE, _create(fee="1.50", **given))
    assert created.fee_account_id == charged
    assert _layers(ledger, charged) == (_d("1.50"), ZERO, ZERO)
    canceled = _run(ledger, created, Workflow.PULL, Task.CANCEL)
    _run(ledger, canceled, Workflow.PULL, Task.REIMBURSE_FEE)
    assert _layers(ledger, charged) == (ZERO, ZERO, ZERO)
    assert _available(ledger) == (FUNDED, FUNDED, FUNDED)


@pytest.mark.parametrize(("change", "code", "field"), [
    ({"amount": "0"}, AchRefusalCode.ACH_AMOUNT_INVALID, "params.amount"),
    ({"amount": "-5.00"}, AchRefusalCode.ACH_AMOUNT_INVALID, "params.amount"),
    ({"amount": "1.234"}, AchRefusalCode.ACH_AMOUNT_INVALID, "params.amount"),
    ({"amount": "100000000.00"}, AchRefusalCode.ACH_AMOUNT_INVALID, "params.amount"),
    ({"feeAmount": "-0.01"}, AchRefusalCode.ACH_FEE_AMOUNT_INVALID, "params.feeAmount"),
    ({"feeAmount": "0.001"}, AchRefusalCode.ACH_FEE_AMOUNT_INVALID, "params.feeAmount"),
    ({"routingNumber": "026009594"}, AchRefusalCode.ACH_ROUTING_NUMBER_INVALID,
     "params.routingNumber"),
    ({"entryMetadata": {"standardEntryClassCode": "COR"}},
     AchRefusalCode.ACH_SEC_CODE_NOT_ORIGINABLE, "params.entryMetadata.standardEntryClassCode"),
    ({"entryMetadata": {"standardEntryClassCode": "XYZ"}},
     AchRefusalCode.ACH_SEC_CODE_NOT_ORIGINABLE, "params.entryMetadata.standardEntryClassCode"),
    ({"configId": "5a1c0d3e-8b7f-4c2a-9e61-3f0b2d4c6a11"},
     AchRefusalCode.ACH_CONFIGURATION_NOT_FOUND, "params.configId"),
])
def test_create_refuses_what_no_entry_can_carry(change: dict[str, Any], code: AchRefusalCode,
                                                field: str) -> None:
    """Each CREATE rule, broken alone, is refused with its code and field."""
    refused = _decide(None, Workflow.PUSH, Task.CREATE, _create(**change))
    assert isinstance(refused, AchRefusal)
    assert (refused.code, refused.field) == (code, field)


def test_create_without_its_configuration_is_refused() -> None:
    """The runtime found no configuration for the configId: nothing is created."""
    refused = _decide(None, Workflow.PULL, Task.CREATE, configuration=None)
    assert isinstance(refused, AchRefusal)
    assert refused.code is AchRefusalCode.ACH_CONFIGURATION_NOT_FOUND


@pytest.mark.parametrize(("task", "payload", "field"), [
    (Task.CREATE, {"amount": 1.5}, "params.amount"),
    (Task.CREATE, {"individualName": "A" * 23}, "params.individualName"),
    (Task.CREATE, {"entryDescription": "CAFÉ"}, "params.entryDescription"),
    (Task.CREATE, {"routingNumber": "02600959"}, "params.routingNumber"),
    (Task.SUBMIT, {"traceNumber": "026009590000001"}, "params"),
    (Task.RETURN, {"returnCode": "X01"}, "params.returnCode"),
    (Task.CANCEL, {"reason": "x"}, "params"),
])
def test_params_that_do_not_validate_are_refused(task: Task, payload: dict[str, Any],
                                                 field: str) -> None:
    """A float amount, a name too long for its NACHA field, a character no file can hold,
    a short routing number, params for a task that takes none (SUBMIT's trace number is
    the generated file's to give)."""
    base: dict[str, Any] = {}
    if task is Task.CREATE:
        base = _create().model_dump(by_alias=True, mode="json", exclude_none=True)
    refused = parse_task_params(task, {**base, **payload})
    assert isinstance(refused, AchRefusal)
    assert refused.code is AchRefusalCode.ACH_PARAMS_INVALID
    assert refused.field is not None
    assert refused.field.startswith(field)


def test_params_of_another_task_and_an_unknown_return_code_are_refused() -> None:
    """decide_task checks the params fit the task, and that a return code is NACHA's."""
    execution = _reached(Workflow.PUSH, [Task.CREATE, Task.SUBMIT])
    refused = _decide(execution, Workflow.PUSH, Task.RETURN, _create())
    assert isinstance(refused, AchRefusal)
    assert refused.code is AchRefusalCode.ACH_PARAMS_INVALID
    refused = _decide(execution, Workflow.PUSH, Task.RETURN, ReturnParams(return_code="R99"))
    assert isinstance(refused, AchRefusal)
    assert refused.code is AchRefusalCode.ACH_RETURN_CODE_UNKNOWN


def test_the_ledger_refuses_a_push_the_customer_cannot_cover() -> None:
    """With no overdraft on available(ENCUMBRANCE), a credit above the funds is decided by
    the workflow but refused by the ledger: the runtime keeps the execution uncreated."""
    ledger = _ledger()
    ledger.add_limit(VelocityLimit.no_overdraft(CUSTOMER.account_id, layer=Layer.ENCUMBRANCE))
    decided = _decide(None, Workflow.PUSH, Task.CREATE, _create("1000.00"))
    assert isinstance(decided, TaskDecided)
    answer = ledger.post(decided.commands[0], _AT)
    assert isinstance(answer, Rejected)
    assert answer.code is RejectionCode.VELOCITY_LIMIT_EXCEEDED
    assert _available(ledger) == (FUNDED, FUNDED, FUNDED)


# The customer's layers (SETTLED, PENDING, ENCUMBRANCE) an execution leaves, relative to its
# funds, in units of the amount A and the fee F: (a, f) stands for a*A + f*F.
LAYERS_BY_STATE: dict[Workflow, dict[State, tuple[tuple[int, int], ...]]] = {
    Workflow.PUSH: {
        State.CREATED: ((0, -1), (0, 0), (-1, 0)),
        State.SUBMITTED: ((-1, -1), (0, 0), (0, 0)),
        State.CANCELED: ((0, -1), (0, 0), (0, 0)),
        State.RETURNED: ((0, -1), (0, 0), (0, 0)),
        State.FEE_REIMBURSED: ((0, 0), (0, 0), (0, 0)),
    },
    Workflow.PULL: {
        State.CREATED: ((0, -1), (0, 0), (1, 0)),
        State.SUBMITTED: ((0, -1), (1, 0), (0, 0)),
        State.SETTLED: ((1, -1), (0, 0), (0, 0)),
        State.CANCELED: ((0, -1), (0, 0), (0, 0)),
        State.RETURNED: ((0, -1), (0, 0), (0, 0)),
        State.FEE_REIMBURSED: ((0, 0), (0, 0), (0, 0)),
    },
}

cents = st.integers(min_value=1, max_value=10_000_000).map(lambda c: Decimal(c).scaleb(-2))


@settings(max_examples=200, deadline=None)
@given(workflow=st.sampled_from(list(Workflow)), amount=cents,
       fee=st.one_of(st.just(ZERO), cents),
       tasks=st.lists(st.sampled_from(list(Task)), max_size=8))
def test_any_sequence_of_tasks_leaves_the_balances_its_state_says(
        workflow: Workflow, amount: Decimal, fee: Decimal, tasks: list[Task]) -> None:
    """Whatever tasks arrive, in any order and repeated, each new one is accepted only along
    the table's transitions, a repeat posts nothing, and at the end the customer's layers
    are the ones the final state says, the settlement account balances them and the fee
    account holds the fee until it is reimbursed."""
    ledger = _ledger()
    create = _create(str(amount), str(fee))
    execution: WorkflowExecution | None = None
    for task in [Task.CREATE, *tasks]:
        params = create if task is Task.CREATE else TASK_PARAMS[task]
        decided = _decide(execution, workflow, task, params)
        state = None if execution is None else execution.state
        entries = len(ledger.entries_log)
        if isinstance(decided, AchRefusal):
            assert execution is not None
            assert task not in [run.task for run in execution.runs], "a repeat is answered"
            assert task not in VALID[workflow][execution.state] or (
                task is Task.REIMBURSE_FEE and fee == 0)
            continue
        answers = [ledger.post(command, _AT) for command in decided.commands]
        if decided.repeated:
            assert execution is not None
            assert task in [run.task for run in execution.runs]
            assert decided.execution == execution
            assert all(isinstance(a, Rejected) and a.code is RejectionCode.TRANSACTION_ID_DUPLICATE
                       for a in answers)
            assert len(ledger.entries_log) == entries
        else:
            assert decided.execution.state is VALID[workflow][state][task]
            assert all(isinstance(a, Posted) for a in answers)
        execution = decided.execution
    assert execution is not None
    expected = tuple(a * amount + f * fee
                     for a, f in LAYERS_BY_STATE[workflow][execution.state])
    customer = _layers(ledger, CUSTOMER.account_id)
    assert (customer[0] - FUNDED, customer[1], customer[2]) == expected
    fee_layers = _layers(ledger, ach.FEE.account_id)
    reimbursed = execution.state is State.FEE_REIMBURSED
    assert fee_layers == (ZERO if reimbursed else fee, ZERO, ZERO)
    # Every ACH leg is on the customer, settlement or fee account and each transaction
    # balances layer by layer, so the debit-normal settlement account's layers are the
    # credit-normal customer's movement plus the fee account's.
    settlement = _layers(ledger, ach.SETTLEMENT.account_id)
    assert settlement == tuple(c + f for c, f in zip(expected, fee_layers, strict=True))


def test_a_generated_file_gives_a_submitted_entry_one_trace_number() -> None:
    """Only a SUBMITTED entry takes a trace number; the same one again changes nothing, and
    another one (or another file) is refused: an entry goes out once."""
    created = _reached(Workflow.PULL, [Task.CREATE])
    refused = assign_trace(created, TRACE, FILE_ID)
    assert isinstance(refused, AchRefusal)
    assert refused.code is AchRefusalCode.ACH_TRACE_NOT_SUBMITTED
    submitted = _reached(Workflow.PULL, [Task.CREATE, Task.SUBMIT])
    traced = assign_trace(submitted, TRACE, FILE_ID)
    assert isinstance(traced, WorkflowExecution)
    assert (traced.state, traced.trace_number, traced.file_id) == (
        State.SUBMITTED, TRACE, FILE_ID)
    assert traced.runs == submitted.runs
    assert assign_trace(traced, TRACE, FILE_ID) is None
    for trace, file_id in (("026009590000002", FILE_ID), (TRACE, UUID(int=7))):
        conflict = assign_trace(traced, trace, file_id)
        assert isinstance(conflict, AchRefusal)
        assert conflict.code is AchRefusalCode.ACH_TRACE_CONFLICT
