"""Helpers of the ODFI file tests: submitted executions, the ``ledger ach file`` commands
run as an operator runs them, and what the ACH topics hold."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from connectors.ach.executions import read_executions
from connectors.ach.file_entries import OdfiFileEntry, read_file_entries
from connectors.ach.files import AchFileRecord, read_files
from connectors.ach.records import ResultStatus
from ledger_cli.main import main
from ledger_core.ach_workflows import State, Task, Workflow, WorkflowExecution
from tests.ach.conftest import AchLedger, accepted, create_params


def submitted(ach_ledger: AchLedger, workflow: Workflow, amount: str,
              customer: UUID | None = None, **params: object) -> UUID:
    """A new execution, created and submitted (queued for the next file)."""
    execution_id = uuid.uuid4()
    created = create_params(customer or ach_ledger.customer(), amount) | params
    accepted(ach_ledger.execute(execution_id, workflow, Task.CREATE, created))
    result = accepted(ach_ledger.execute(execution_id, workflow, Task.SUBMIT, {}))
    assert result.status is ResultStatus.ACCEPTED and result.state is State.SUBMITTED
    return execution_id


def kafka_args(ach_ledger: AchLedger) -> list[str]:
    return ["--bootstrap-servers", ach_ledger.ledger.bootstrap,
            "--topic-prefix", ach_ledger.ledger.topics.prefix]


def ledger(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """Run ``ledger ARGS`` in this process: its exit status and what it printed."""
    capsys.readouterr()
    try:
        status = main(list(args))
    except SystemExit as stopped:
        status = int(stopped.code or 0)
    return status, capsys.readouterr().out


def generate(ach_ledger: AchLedger, capsys: pytest.CaptureFixture[str],
             output: Path) -> dict[str, Any]:
    """``ledger --json ach file generate --output OUTPUT``, which must succeed."""
    status, out = ledger(capsys, "--json", "ach", "file", "generate", *kafka_args(ach_ledger),
                         "--output", str(output))
    assert status == 0, out
    answer: dict[str, Any] = json.loads(out)
    return answer


def generate_process(ach_ledger: AchLedger, output: Path, log: Path) -> subprocess.Popen[bytes]:
    """``ledger ach file generate`` in a child process."""
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "ledger_cli", "ach", "file", "generate",
             *kafka_args(ach_ledger), "--output", str(output)],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)


def files(ach_ledger: AchLedger) -> dict[UUID, AchFileRecord]:
    return read_files(ach_ledger.ledger.bootstrap, ach_ledger.client.topics)


def entries(ach_ledger: AchLedger, *file_ids: UUID) -> dict[UUID, list[OdfiFileEntry]]:
    return read_file_entries(ach_ledger.ledger.bootstrap, ach_ledger.client.topics, file_ids)


def executions(ach_ledger: AchLedger) -> dict[UUID, WorkflowExecution]:
    return read_executions(ach_ledger.ledger.bootstrap, ach_ledger.client.topics)
