"""The ACH workflows through the workflow processor and the ledger on the real broker: every
transition with the customer's layered balances from the balances topic, refusals, and
repeats that post nothing."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal

import pytest

from connectors.ach.records import ResultStatus, decode_execution
from ledger_cli.main import main
from ledger_core import ach_tran_codes as ach
from ledger_core.ach_workflows import AchRefusalCode, State, Task, Workflow, task_transaction_id
from schemas.codec import codec
from tests.ach.conftest import AchLedger, accepted, create_params

SUBMIT: dict[str, object] = {}
RETURN = {"returnCode": "R01"}


def _d(*values: str) -> tuple[Decimal, ...]:
    return tuple(Decimal(v) for v in values)


def test_push_through_every_transition(ach_ledger: AchLedger) -> None:
    """CREATE encumbers the amount and charges the fee, SUBMIT settles it, RETURN gives it
    back, REIMBURSE_FEE the fee: the balances topic shows each step's layers."""
    customer = ach_ledger.customer()
    execution_id = uuid.uuid4()
    steps = [
        (Task.CREATE, create_params(customer), State.CREATED,
         _d("999.75", "999.75", "849.75")),
        (Task.SUBMIT, SUBMIT, State.SUBMITTED, _d("849.75", "849.75", "849.75")),
        (Task.RETURN, RETURN, State.RETURNED, _d("999.75", "999.75", "999.75")),
        (Task.REIMBURSE_FEE, {}, State.FEE_REIMBURSED, _d("1000.00", "1000.00", "1000.00")),
    ]
    for number, (task, params, state, available) in enumerate(steps, 1):
        result = accepted(ach_ledger.execute(execution_id, Workflow.PUSH, task, params))
        assert result.state is state
        assert len(result.transaction_ids) == number
        assert result.transaction_ids[-1] == task_transaction_id(execution_id, task)
        assert ach_ledger.available(customer) == available, task
    executions = [decode_execution(m.value()) for m in
                  ach_ledger.ledger.read(ach_ledger.client.topics.executions)]
    assert [e.state for e in executions if e.execution_id == execution_id] == \
        [state for _task, _params, state, _available in steps]


def test_pull_through_every_transition_with_a_return_after_settle(
        ach_ledger: AchLedger) -> None:
    """A debit counts in available(ENCUMBRANCE) once created, in available(PENDING) once
    submitted, in available(SETTLED) only once settled; the return after SETTLE takes it
    back from SETTLED."""
    customer = ach_ledger.customer()
    execution_id = uuid.uuid4()
    steps = [
        (Task.CREATE, create_params(customer), State.CREATED,
         _d("999.75", "999.75", "1149.75")),
        (Task.SUBMIT, SUBMIT, State.SUBMITTED, _d("999.75", "1149.75", "1149.75")),
        (Task.SETTLE, {}, State.SETTLED, _d("1149.75", "1149.75", "1149.75")),
        (Task.RETURN, RETURN, State.RETURNED, _d("999.75", "999.75", "999.75")),
        (Task.REIMBURSE_FEE, {}, State.FEE_REIMBURSED, _d("1000.00", "1000.00", "1000.00")),
    ]
    for task, params, state, available in steps:
        result = accepted(ach_ledger.execute(execution_id, Workflow.PULL, task, params))
        assert result.state is state
        assert ach_ledger.available(customer) == available, task


def test_invalid_tasks_are_refused_with_their_code_and_post_nothing(
        ach_ledger: AchLedger) -> None:
    """SUBMIT after CANCEL, SETTLE on a PUSH, a task for no execution, a float amount and a
    CREATE of the other workflow under a PUSH's id are refused with their codes, and the
    balances stay as the CANCEL left them."""
    customer = ach_ledger.customer()
    execution_id = uuid.uuid4()
    accepted(ach_ledger.execute(execution_id, Workflow.PUSH, Task.CREATE,
                                create_params(customer)))
    accepted(ach_ledger.execute(execution_id, Workflow.PUSH, Task.CANCEL, {}))
    after_cancel = _d("999.75", "999.75", "999.75")
    assert ach_ledger.available(customer) == after_cancel
    refusals = [
        (execution_id, Workflow.PUSH, Task.SUBMIT, SUBMIT, AchRefusalCode.ACH_TRANSITION_INVALID),
        (execution_id, Workflow.PUSH, Task.SETTLE, {}, AchRefusalCode.ACH_TASK_NOT_IN_WORKFLOW),
        (execution_id, Workflow.PULL, Task.REIMBURSE_FEE, {},
         AchRefusalCode.ACH_WORKFLOW_MISMATCH),
        (uuid.uuid4(), Workflow.PULL, Task.SUBMIT, SUBMIT,
         AchRefusalCode.ACH_EXECUTION_NOT_FOUND),
        (uuid.uuid4(), Workflow.PULL, Task.CREATE, {**create_params(customer), "amount": 150.0},
         AchRefusalCode.ACH_PARAMS_INVALID),
    ]
    for refused_id, workflow, task, params, code in refusals:
        result, postings = ach_ledger.execute(refused_id, workflow, task, params)
        assert (result.status, result.code) == (ResultStatus.REFUSED, code), result
        assert result.message
        assert postings == []
    assert "SUBMIT after CANCEL" in (ach_ledger.client.execute(
        execution_id, Workflow.PUSH, Task.SUBMIT, SUBMIT).message or "")
    assert ach_ledger.available(customer) == after_cancel


def test_a_repeated_task_is_answered_from_the_execution_and_posts_nothing(
        ach_ledger: AchLedger) -> None:
    """The same CREATE and SUBMIT sent again are REPEATED with the first answer and send no
    posting command: the ledger's commands topic holds one command per task transaction."""
    customer = ach_ledger.customer()
    execution_id = uuid.uuid4()
    created = accepted(ach_ledger.execute(execution_id, Workflow.PUSH, Task.CREATE,
                                          create_params(customer)))
    submitted = accepted(ach_ledger.execute(execution_id, Workflow.PUSH, Task.SUBMIT, SUBMIT))
    again, postings = ach_ledger.execute(execution_id, Workflow.PUSH, Task.CREATE,
                                         create_params(customer))
    assert (again.status, again.state, postings) == (ResultStatus.REPEATED, State.SUBMITTED, [])
    assert again.transaction_ids == submitted.transaction_ids
    assert created.transaction_ids == submitted.transaction_ids[:1]
    again, postings = ach_ledger.execute(execution_id, Workflow.PUSH, Task.SUBMIT, SUBMIT)
    assert (again.status, postings) == (ResultStatus.REPEATED, [])
    differs, _ = ach_ledger.execute(execution_id, Workflow.PUSH, Task.CREATE,
                                    create_params(customer, amount="150.01"))
    assert differs.code is AchRefusalCode.ACH_REPEATED_TASK_PARAMS_DIFFER
    assert ach_ledger.available(customer) == _d("849.75", "849.75", "849.75")
    ledger = ach_ledger.ledger
    sent = [codec().decode("command", m.value())["transaction_id"]
            for m in ledger.read(ledger.topics.commands)]
    for task in (Task.CREATE, Task.SUBMIT):
        assert sent.count(str(task_transaction_id(execution_id, task))) == 1, task


def test_the_cli_executes_a_task_and_answers_with_the_ledgers_decision(
        ach_ledger: AchLedger, capsys: pytest.CaptureFixture[str]) -> None:
    """``ledger ach workflow execute`` prints the workflow's result and the ledger's result
    of the posting it sent; ``ledger ach setup`` prints the configuration."""
    customer = ach_ledger.customer()
    execution_id = uuid.uuid4()
    kafka = ["--bootstrap-servers", ach_ledger.ledger.bootstrap,
             "--topic-prefix", ach_ledger.ledger.topics.prefix]
    assert main(["ach", "workflow", "execute", *kafka, "--execution-id", str(execution_id),
                 "--code", "ACH_PULL", "--task", "CREATE",
                 "--params", json.dumps(create_params(customer)), "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert (answer["workflow"]["status"], answer["workflow"]["state"]) == ("ACCEPTED",
                                                                           "CREATED")
    assert [(p["status"], p["transactionId"]) for p in answer["ledger"]] == \
        [("POSTED", str(task_transaction_id(execution_id, Task.CREATE)))]
    assert main(["ach", "workflow", "execute", *kafka, "--execution-id", str(execution_id),
                 "--code", "ACH_PULL", "--task", "CANCEL"]) == 0
    assert capsys.readouterr().out.startswith(
        f"ACCEPTED ACH_PULL CANCEL: execution {execution_id} is CANCELED\nledger: POSTED ")
    assert main(["ach", "setup", *kafka, "--json"]) == 0
    setup = json.loads(capsys.readouterr().out)
    assert setup["configuration"]["configId"] == str(ach.CONFIGURATION.config_id)
    # Everything exists already, the same: creating it again is applied, changing nothing.
    assert [entity["status"] for entity in setup["created"]] == ["APPLIED"] * 22
