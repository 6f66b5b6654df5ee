"""A task is answered once the ledger has decided its posting: a rejected posting leaves the
execution as it was and may be sent again, tasks sent without waiting are decided in turn,
and a generated file's trace number is kept on the execution and indexed."""

from __future__ import annotations

import uuid
from decimal import Decimal

from connectors.ach.records import ResultStatus, decode_execution
from connectors.ach.traces import read_traces
from ledger_core import Account
from ledger_core.ach_workflows import AchRefusalCode, State, Task, Workflow
from tests.ach.conftest import FUNDED, AchLedger, accepted, create_params


def test_a_posting_the_ledger_rejects_leaves_the_execution_as_it_was(
        ach_ledger: AchLedger) -> None:
    """CREATE for an account the ledger does not know yet: REFUSED with the ledger's reason,
    no execution; the same CREATE once the account exists is accepted, under the same
    transaction id; a CREATE with other params after the refusal is refused."""
    account_id = uuid.uuid4()
    execution_id = uuid.uuid4()
    params = create_params(account_id)
    result, postings = ach_ledger.execute(execution_id, Workflow.PUSH, Task.CREATE, params)
    assert result.status is ResultStatus.REFUSED
    assert result.code is AchRefusalCode.ACH_POSTING_REJECTED
    assert [posting.status for posting in postings] == ["REJECTED"]
    assert postings[0].code is not None and postings[0].code in (result.message or "")
    executions = [decode_execution(m.value()) for m in
                  ach_ledger.ledger.read(ach_ledger.client.topics.executions)]
    assert execution_id not in {e.execution_id for e in executions}

    other, _ = ach_ledger.execute(execution_id, Workflow.PUSH, Task.CREATE,
                                  create_params(account_id, amount="99.00"))
    assert other.code is AchRefusalCode.ACH_REPEATED_TASK_PARAMS_DIFFER

    client = ach_ledger.ledger.clients[0]
    assert client.create(Account.model_validate({
        "accountId": str(account_id), "code": f"ACH.C.{uuid.uuid4().hex[:10]}",
        "name": "ACH customer"})).ok
    created = accepted(ach_ledger.execute(execution_id, Workflow.PUSH, Task.CREATE, params))
    assert created.state is State.CREATED
    assert ach_ledger.available(account_id) == tuple(
        Decimal(v) for v in ("-0.25", "-0.25", "-150.25"))


def test_tasks_sent_without_waiting_are_decided_in_turn(ach_ledger: AchLedger) -> None:
    """CREATE, SUBMIT, SUBMIT again and CANCEL sent at once: SUBMIT waits for CREATE's
    posting, the second SUBMIT is answered with the first's transactions, and CANCEL after
    SUBMIT is refused in its turn."""
    customer = ach_ledger.customer()
    execution_id = uuid.uuid4()
    client = ach_ledger.client
    sent = [client.send(execution_id, Workflow.PUSH, Task.CREATE, create_params(customer)),
            client.send(execution_id, Workflow.PUSH, Task.SUBMIT, {}),
            client.send(execution_id, Workflow.PUSH, Task.SUBMIT, {}),
            client.send(execution_id, Workflow.PUSH, Task.CANCEL, {})]
    results = client.wait(sent)
    answers = [results[command_id] for command_id in sent]
    assert [(a.status, a.state) for a in answers[:2]] == [
        (ResultStatus.ACCEPTED, State.CREATED), (ResultStatus.ACCEPTED, State.SUBMITTED)]
    # The same SUBMIT again waits with the first (ACCEPTED) or, decided after it posted, is
    # answered from the execution (REPEATED): either way the same transactions.
    assert answers[2].status in {ResultStatus.ACCEPTED, ResultStatus.REPEATED}
    assert answers[2].transaction_ids == answers[1].transaction_ids
    assert answers[3].code is AchRefusalCode.ACH_TRANSITION_INVALID
    assert ach_ledger.available(customer) == (FUNDED - Decimal("150.25"),) * 3


def test_a_generated_files_trace_number_is_kept_and_indexed(ach_ledger: AchLedger) -> None:
    """A trace number for a SUBMITTED execution is kept on it and written to the trace
    index; the same again is REPEATED; another one, or one for a CREATED execution, is
    refused; RETURN's posting names the trace number."""
    customer = ach_ledger.customer()
    submitted, created = uuid.uuid4(), uuid.uuid4()
    for execution_id, tasks in ((submitted, (Task.CREATE, Task.SUBMIT)),
                                (created, (Task.CREATE,))):
        for task in tasks:
            params = create_params(customer) if task is Task.CREATE else {}
            accepted(ach_ledger.execute(execution_id, Workflow.PULL, task, params))
    client = ach_ledger.client
    file_id = uuid.uuid4()
    trace = f"02600959{uuid.uuid4().int % 10**7:07d}"
    first = client.send_trace(submitted, trace, file_id)
    again = client.send_trace(submitted, trace, file_id)
    other = client.send_trace(submitted, "026009599999999", file_id)
    early = client.send_trace(created, "026009599999998", file_id)
    results = client.wait([first, again, other, early])
    assert (results[first].status, results[first].trace_number) == (ResultStatus.ACCEPTED,
                                                                    trace)
    assert results[again].status is ResultStatus.REPEATED
    assert results[other].code is AchRefusalCode.ACH_TRACE_CONFLICT
    assert results[early].code is AchRefusalCode.ACH_TRACE_NOT_SUBMITTED

    indexed = read_traces(ach_ledger.ledger.bootstrap, client.topics)
    assert (indexed[trace].execution_id, indexed[trace].file_id) == (submitted, file_id)
    assert "026009599999998" not in indexed

    returned, postings = ach_ledger.execute(submitted, Workflow.PULL, Task.RETURN,
                                            {"returnCode": "R01"})
    assert (returned.status, returned.trace_number) == (ResultStatus.ACCEPTED, trace)
    posted = postings[0].transaction
    assert posted is not None and posted.transaction.metadata is not None
    assert posted.transaction.metadata["traceNumber"] == trace
