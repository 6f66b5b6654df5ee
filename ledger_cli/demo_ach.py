"""The demo's ACH origination: a workflow processor in a child process, a PULL that collects
money into a customer's account and a PUSH that sends some out, both through to settlement,
and the NACHA files generated for them with their control totals.

Each task goes through ``AchClient.execute``, the same path as ``ledger ach workflow
execute`` and GraphQL's ``workflow.execute``; the file through ``generate_file``, the same
as ``ledger ach file generate``.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

from connectors.ach.client import AchClient
from connectors.ach.entities import create_entities
from connectors.ach.file_generator import Generation, generate_file
from connectors.ach.process import WorkflowProcessorProcess
from connectors.ach.records import ResultStatus
from ledger_cli.rendering import render_table
from ledger_core import Account, Layer
from ledger_core import ach_tran_codes as ach
from ledger_core.ach_workflows import Task, Workflow
from streams.client import LedgerClient
from streams.errors import LedgerError

__all__ = ["ach_origination"]


def ach_origination(client: LedgerClient, bootstrap: str, state: Path) -> None:
    """Set up ACH, run a PULL and a PUSH to settlement, generate their file."""
    print("\n== ACH origination: a PULL collects 500.00, a PUSH sends 120.00, and the NACHA "
          "files they go out in ==")
    create_entities(client)
    processor = WorkflowProcessorProcess(bootstrap, state / "demo-ach.log", "demo").start()
    print(f"ACH workflow processor started (pid {processor.pid}, log {processor.log_file})")
    ach_client = AchClient(bootstrap)
    try:
        customer = _customer(client)
        pull, push = uuid.uuid4(), uuid.uuid4()
        # The PULL's money is collected (its file sent, then SETTLE) before the PUSH spends
        # some of it.
        steps: list[tuple[str, UUID, Workflow, Task, dict[str, Any]] | None] = [
            ("PULL CREATE 500.00 (fee 0.25)", pull, Workflow.PULL, Task.CREATE,
             _create(customer, "500.00", "Collect")),
            ("PULL SUBMIT", pull, Workflow.PULL, Task.SUBMIT, {}),
            None,
            ("PULL SETTLE", pull, Workflow.PULL, Task.SETTLE, {}),
            ("PUSH CREATE 120.00 (fee 0.25)", push, Workflow.PUSH, Task.CREATE,
             _create(customer, "120.00", "Payout")),
            ("PUSH SUBMIT", push, Workflow.PUSH, Task.SUBMIT, {}),
            None,
        ]
        rows, files = [], []
        for step in steps:
            if step is None:
                generation = generate_file(bootstrap, "ledger", ach.CONFIGURATION.config_id)
                if generation.record is None:
                    raise LedgerError("the ACH file was not generated: nothing was queued")
                files.append(generation)
                rows.append(["file generated", f"{generation.record.name}",
                             *_available(client, customer)])
            else:
                rows.append(_step(ach_client, client, customer, *step))
        print(render_table(["step", "state", "available(SETTLED)", "available(PENDING)",
                            "available(ENCUMBRANCE)"], rows))
        for generation in files:
            _print_file(generation)
    finally:
        ach_client.close()
        processor.stop()


def _print_file(generation: Generation) -> None:
    record = generation.record
    assert record is not None
    stats = record.statistics
    print(f"file {record.name} ({record.file_id}), {record.status}: {stats.batches} batch(es), "
          f"{stats.entries} entr(ies), debits {Decimal(stats.total_debit_cents).scaleb(-2)}, "
          f"credits {Decimal(stats.total_credit_cents).scaleb(-2)}, entry hash "
          f"{stats.entry_hash}")
    control = next(line for line in generation.text.splitlines() if line.startswith("9"))
    print(f"  its file control record: {control.rstrip()}")


def _customer(client: LedgerClient) -> UUID:
    account = Account.model_validate({"accountId": str(uuid.uuid4()),
                                      "code": f"ACH.DEMO.{uuid.uuid4().hex[:8].upper()}",
                                      "name": "ACH demo customer"})
    if not client.create(account).ok:
        raise LedgerError("the ACH demo customer could not be created")
    return account.account_id


def _create(customer: UUID, amount: str, description: str) -> dict[str, Any]:
    # A test routing number (its check digit holds) and an account number made up for it.
    return {"configId": str(ach.CONFIGURATION.config_id), "accountId": str(customer),
            "amount": amount, "feeAmount": "0.25", "routingNumber": "026009593",
            "accountNumber": "000123456789", "accountType": "checking",
            "individualName": "GROVER", "entryDescription": description,
            "effective": "2026-12-04", "correlationId": f"demo-{description.lower()}"}


def _step(ach_client: AchClient, client: LedgerClient, customer: UUID, label: str,
          execution_id: UUID, workflow: Workflow, task: Task,
          params: dict[str, Any]) -> list[str]:
    result = ach_client.execute(execution_id, workflow, task, params)
    if result.status is not ResultStatus.ACCEPTED:
        raise LedgerError(f"{label}: {result.status} {result.code}: {result.message}")
    return [label, str(result.state), *_available(client, customer)]


def _available(client: LedgerClient, customer: UUID) -> list[str]:
    client.wait_converged()
    for balance in client.balances(customer):
        if balance.journal_id == ach.JOURNAL.journal_id:
            return [str(balance.available(layer).normal_balance)
                    for layer in (Layer.SETTLED, Layer.PENDING, Layer.ENCUMBRANCE)]
    return ["0", "0", "0"]
