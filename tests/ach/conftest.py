"""A ledger with the ACH entities on the real broker: a ledger processor, a workflow
processor in a child process (which a test may SIGKILL and start again), and clients; and,
for received files, a decisioning webhook on loopback and `ledger ach file process`."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from connectors.ach.client import AchClient
from connectors.ach.entities import create_entities
from connectors.ach.process import WorkflowProcessorProcess
from connectors.ach.records import ResultStatus, WorkflowResult, decode_execution
from ledger_core import Account, Layer, TranCode
from ledger_core import ach_tran_codes as ach
from ledger_core.ach_workflows import Task, Workflow, WorkflowExecution
from streams.client import Result
from streams.topics import Topics
from tests.ach.rdfi_support import DecisioningWebhook, new_secret, process_command, run_process
from tests.streams.conftest import KafkaLedger

CASH = Account.model_validate({"accountId": "5a1c0d3e-8b7f-4c2a-9e61-3f0b2d4c6a31",
                               "code": "ACH.TEST.CASH", "name": "Cash",
                               "normalBalanceType": "DEBIT"})
# How a customer's money got there, outside the ACH flow: a cash deposit on SETTLED.
FUND = TranCode.model_validate({
    "tranCodeId": "5a1c0d3e-8b7f-4c2a-9e61-3f0b2d4c6b31", "code": "ACH_TEST_FUND",
    "params": [{"name": "account", "type": "UUID"}, {"name": "amount", "type": "DECIMAL"}],
    "transaction": {"journalId": f"uuid('{ach.JOURNAL.journal_id}')"},
    "entries": [{"accountId": account, "units": "params.amount", "currency": "'USD'",
                 "direction": direction}
                for account, direction in ((f"uuid('{CASH.account_id}')", "DEBIT"),
                                           ("params.account", "CREDIT"))]})
FUNDED = Decimal("1000.00")


@dataclass
class AchLedger:
    """A ledger with the ACH entities, a workflow processor and an ACH client."""

    ledger: KafkaLedger
    workflows: WorkflowProcessorProcess
    clients: list[AchClient] = field(default_factory=list)

    @property
    def client(self) -> AchClient:
        """The ACH client of the module (made at start, so it watches every result)."""
        return self.clients[0]

    def customer(self, funds: Decimal = FUNDED) -> UUID:
        """A new customer account holding ``funds`` on SETTLED in the ACH journal."""
        client = self.ledger.clients[0]
        account = Account.model_validate({"accountId": str(uuid.uuid4()),
                                          "code": f"ACH.C.{uuid.uuid4().hex[:10]}",
                                          "name": "ACH customer"})
        assert client.create(account).ok
        funded = client.post(uuid.uuid4(), FUND.code, {"account": str(account.account_id),
                                                      "amount": str(funds)},
                             account.account_id)
        assert funded.ok, funded
        return account.account_id

    def execute(self, execution_id: UUID, workflow: Workflow, task: Task,
                params: dict[str, object]) -> tuple[WorkflowResult, list[Result]]:
        """Run a task; wait for the workflow's result and the ledger's result of each posting."""
        result = self.client.execute(execution_id, workflow, task, params)
        postings = self.ledger.clients[0].wait(result.posting_command_ids)
        return result, [postings[command_id] for command_id in result.posting_command_ids]

    def executions(self) -> list[WorkflowExecution]:
        """The latest committed record of every execution."""
        latest = {}
        for message in self.ledger.read(self.client.topics.executions):
            execution = decode_execution(message.value())
            latest[execution.execution_id] = execution
        return list(latest.values())

    def available(self, account_id: UUID) -> tuple[Decimal, Decimal, Decimal]:
        """The account's available(SETTLED), (PENDING) and (ENCUMBRANCE) in the ACH journal,
        from the balances topic once every leg sent so far is applied."""
        client = self.ledger.clients[0]
        client.wait_converged()
        for balance in client.balances(account_id):
            if balance.journal_id == ach.JOURNAL.journal_id and balance.currency == "USD":
                return (balance.available(Layer.SETTLED).normal_balance,
                        balance.available(Layer.PENDING).normal_balance,
                        balance.available(Layer.ENCUMBRANCE).normal_balance)
        raise AssertionError(f"account {account_id} has no ACH balance")


def create_params(account_id: UUID, amount: str = "150.00", fee: str = "0.25",
                  ) -> dict[str, object]:
    """CREATE's params as a client sends them."""
    return {"configId": str(ach.CONFIGURATION.config_id), "accountId": str(account_id),
            "amount": amount, "feeAmount": fee, "routingNumber": "026009593",
            "accountNumber": "12345678901234567", "individualName": "CLARK KENT",
            "entryDescription": "XFER", "effective": "2025-11-14",
            "correlationId": "payroll-batch-001"}


def accepted(answer: tuple[WorkflowResult, list[Result]]) -> WorkflowResult:
    """The workflow result, checked accepted with every posting POSTED."""
    result, postings = answer
    assert result.status is ResultStatus.ACCEPTED, result
    assert [posting.status for posting in postings] == ["POSTED"], postings
    return result


@pytest.fixture(scope="module")
def ach_ledger(kafka_bootstrap: str,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[AchLedger]:
    """A ledger on fresh topics (4 partitions) with the ACH entities and a workflow
    processor, shared by a module's tests; each test has customers of its own."""
    home = tmp_path_factory.mktemp("ach")
    ledger = KafkaLedger(kafka_bootstrap, Topics(prefix=f"a{uuid.uuid4().hex[:10]}",
                                                 partitions=4), home)
    workflows = WorkflowProcessorProcess(kafka_bootstrap, home / "w1.log", "w1",
                                         ledger.topics.prefix)
    clients: list[AchClient] = []
    try:
        ledger.add_processor()
        client = ledger.client()
        created = create_entities(client)
        assert {entry["status"] for entry in created["created"]} == {"APPLIED"}, created
        assert client.create(CASH).ok
        assert client.create(FUND).ok
        workflows.start()
        clients.append(AchClient(kafka_bootstrap, ledger.topics.prefix))
        yield AchLedger(ledger, workflows, clients)
    finally:
        for ach_client in clients:
            ach_client.close()
        workflows.stop()
        ledger.close()


@pytest.fixture(scope="module")
def secret_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    secret = new_secret()
    path = tmp_path_factory.mktemp("rdfi") / "webhook.secret"
    path.write_text(secret + "\n")
    return secret, path


@pytest.fixture(scope="module")
def webhook(secret_file: tuple[str, Path]) -> Iterator[DecisioningWebhook]:
    hook = DecisioningWebhook(secret_file[0], fallback=str(uuid.uuid4()))
    yield hook
    hook.close()


@pytest.fixture
def process(ach_ledger: AchLedger, secret_file: tuple[str, Path], webhook: DecisioningWebhook,
            tmp_path: Path) -> Any:
    """Write the content to a file and `ledger ach file process` it."""
    def run(content: bytes, *extra: str) -> tuple[int, dict[str, Any] | None, str]:
        path = tmp_path / f"received-{uuid.uuid4().hex[:6]}.ach"
        path.write_bytes(content)
        return run_process(command(path, *extra))

    def command(path: Path, *extra: str) -> list[str]:
        return process_command(ach_ledger.ledger.bootstrap, ach_ledger.ledger.topics.prefix,
                               path, secret_file[1], webhook.url, *extra)

    run.command = command  # type: ignore[attr-defined]
    return run
