"""The workflow processor SIGKILLed while a stream of workflow commands is in flight, then
started again: every command answered once, every execution where its commands lead, every
task posted once, and the ledger's audit clean."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from decimal import Decimal

from connectors.ach.client import AchClient
from connectors.ach.records import (
    ResultStatus,
    WorkflowResult,
    decode_execution,
    decode_result,
)
from ledger_core.ach_workflows import State, Task, Workflow, task_transaction_id
from schemas.codec import codec
from streams.audit_log import run_audit
from tests.ach.conftest import FUNDED, AchLedger, create_params

FEE = Decimal("0.25")
# Each execution's tasks, the state they lead to, and what the entry does to the customer's
# balance on every layer once they have run (amount A, fee F).
PLANS = [
    (Workflow.PUSH, (Task.CREATE, Task.SUBMIT), State.SUBMITTED, lambda a: -a - FEE),
    (Workflow.PULL, (Task.CREATE, Task.SUBMIT, Task.SETTLE), State.SETTLED, lambda a: a - FEE),
    (Workflow.PUSH, (Task.CREATE, Task.CANCEL), State.CANCELED, lambda a: -FEE),
]
EXECUTIONS = 36
PARAMS: dict[Task, dict[str, object]] = {Task.SUBMIT: {}, Task.SETTLE: {}, Task.CANCEL: {}}


def test_a_killed_workflow_processor_loses_and_doubles_nothing(ach_ledger: AchLedger) -> None:
    customers = [ach_ledger.customer() for _ in range(3)]
    executions = [(uuid.uuid4(), customers[i % 3], PLANS[i % 3], Decimal(10 + i))
                  for i in range(EXECUTIONS)]
    # Step by step across every execution, so that each batch holds several executions'
    # tasks; one producer keeps each execution's tasks in order on its partition.
    commands = [(execution_id, plan[0], plan[1][step],
                 create_params(customer, str(amount), str(FEE)) if step == 0
                 else PARAMS[plan[1][step]])
                for step in range(3)
                for execution_id, customer, plan, amount in executions if step < len(plan[1])]
    sender = AchClient(ach_ledger.ledger.bootstrap, ach_ledger.ledger.topics.prefix)
    sent: list[str] = []

    def send() -> None:
        for number, command in enumerate(commands):
            sent.append(sender.send(*command))
            if number % 3 == 2:
                sender.wait([], 10)  # flushes: the stream arrives over a few seconds
                time.sleep(0.06)

    thread = threading.Thread(target=send)
    thread.start()
    results_topic = ach_ledger.client.topics.results
    # Kill once a quarter is answered: tasks wait for their postings, so whether or not
    # the sender is done by then, most commands are in flight.
    while len(_results(ach_ledger, results_topic)) < len(commands) // 4:
        time.sleep(0.05)
    ach_ledger.workflows.kill()
    answered_at_kill = len(_results(ach_ledger, results_topic))
    assert answered_at_kill < len(commands)
    time.sleep(1)
    ach_ledger.workflows.start()
    thread.join()
    try:
        assert sender.wait(sent, 60).keys() == set(sent)
    finally:
        sender.close()

    results = _results(ach_ledger, results_topic)
    counts = Counter(result.command_id for result in results)
    assert {command_id: counts[command_id] for command_id in sent} == dict.fromkeys(sent, 1)
    assert {r.status for r in results if r.command_id in set(sent)} == {ResultStatus.ACCEPTED}

    latest = {e.execution_id: e for e in (decode_execution(m.value()) for m in
                                          ach_ledger.ledger.read(ach_ledger.client.topics
                                                                 .executions))}
    assert {execution_id: latest[execution_id].state
            for execution_id, _customer, _plan, _amount in executions} == \
        {execution_id: plan[2] for execution_id, _customer, plan, _amount in executions}

    ledger = ach_ledger.ledger
    posted = Counter(codec().decode("command", m.value())["transaction_id"]
                     for m in ledger.read(ledger.topics.commands))
    tasks = [str(task_transaction_id(execution_id, task))
             for execution_id, _customer, plan, _amount in executions for task in plan[1]]
    assert {tid: posted[tid] for tid in tasks} == dict.fromkeys(tasks, 1)
    decided = {r["transaction_id"]: r["status"] for r in ledger.results()}
    assert {tid: decided.get(tid) for tid in tasks} == dict.fromkeys(tasks, "POSTED")

    for customer in customers:
        moved = sum((plan[3](amount) for _id, owner, plan, amount in executions
                     if owner == customer), Decimal(0))
        assert ach_ledger.available(customer) == (FUNDED + moved,) * 3

    report = run_audit(ledger.bootstrap, ledger.topics, ledger.topics.partitions)
    assert report.violations == []


def _results(ach_ledger: AchLedger, topic: str) -> list[WorkflowResult]:
    return [decode_result(m.value()) for m in ach_ledger.ledger.read(topic)]
