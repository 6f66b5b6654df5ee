"""ODFI files on the real broker: ``ledger ach file generate`` from SUBMITTED PUSH and PULL
executions, trace numbers kept by the workflow processor, a file written again from its
records, no execution in two files, and a generator SIGKILLed after recording its file."""

from __future__ import annotations

import json
import signal
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from connectors.ach.file_entries import FileEntryStatus
from connectors.ach.file_generation import sequence_of
from connectors.ach.files import AchFileStatus
from connectors.ach.traces import read_traces
from ledger_core import TranCode
from ledger_core import ach_tran_codes as ach
from ledger_core.ach_workflows import Task, Workflow, task_transaction_id
from nacha import parse
from tests.ach.ach_files import (
    entries,
    executions,
    files,
    generate,
    generate_process,
    kafka_args,
    ledger,
    submitted,
)
from tests.ach.conftest import CASH, AchLedger


def _traced(ach_ledger: AchLedger, file_id: UUID) -> dict[str, UUID]:
    """Trace number -> execution of a file's entries, each checked kept by its execution
    and indexed."""
    recorded = entries(ach_ledger, file_id)[file_id]
    latest = executions(ach_ledger)
    traces = read_traces(ach_ledger.ledger.bootstrap, ach_ledger.client.topics)
    for entry in recorded:
        assert entry.status is FileEntryStatus.TRACED, entry
        kept = latest[entry.execution_id]
        assert (kept.trace_number, kept.file_id) == (entry.trace_number, file_id)
        assert (traces[entry.trace_number].execution_id,
                traces[entry.trace_number].file_id) == (entry.execution_id, file_id)
    return {entry.trace_number: entry.execution_id for entry in recorded}


def test_a_file_of_push_and_pull_entries_validates_strictly_with_its_totals(
        ach_ledger: AchLedger, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    customer = ach_ledger.customer()
    pushes = [submitted(ach_ledger, Workflow.PUSH, amount, customer)
              for amount in ("150.00", "20.05")]
    pulls = [submitted(ach_ledger, Workflow.PULL, amount, customer)
             for amount in ("35.10", "0.99")]

    answer = generate(ach_ledger, capsys, tmp_path / "first.ach")
    file = answer["file"]
    assert (file["status"], file["batches"], file["entries"], file["totalCredit"],
            file["totalDebit"]) == ("COMPLETED", 2, 4, "170.05", "36.09")
    text = (tmp_path / "first.ach").read_text()
    parsed = parse(text, origination=True).file  # strict: raises on any broken rule
    control = parsed.control
    assert control is not None
    assert (control.number("total_credit_entry_dollar_amount"),
            control.number("total_debit_entry_dollar_amount"),
            control.number("entry_addenda_count"), control.number("batch_count"),
            control.number("entry_hash")) == (17005, 3609, 4, 2, file["entryHash"])
    assert [b.header.number("service_class_code") for b in parsed.batches] == [220, 225]

    file_id = UUID(file["fileId"])
    traced = _traced(ach_ledger, file_id)
    assert set(traced.values()) == {*pushes, *pulls}
    assert [entry.detail["trace_number"] for entry in parsed.entries] == sorted(traced)
    record = files(ach_ledger)[file_id]
    assert record.status is AchFileStatus.COMPLETED
    assert record.statistics.entries_unprocessed == 0

    # Written again from the records alone: the same text.
    status, out = ledger(capsys, "ach", "file", "show", file["fileId"], *kafka_args(ach_ledger),
                         "--output", str(tmp_path / "again.ach"))
    assert status == 0, out
    assert (tmp_path / "again.ach").read_text() == text


def test_executions_already_in_a_file_are_not_put_in_another(
        ach_ledger: AchLedger, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    earlier = submitted(ach_ledger, Workflow.PULL, "43.21")
    first = generate(ach_ledger, capsys, tmp_path / "a.ach")["file"]
    before = _traced(ach_ledger, UUID(first["fileId"]))
    assert list(before.values()) == [earlier]
    added = submitted(ach_ledger, Workflow.PUSH, "12.34")

    second = generate(ach_ledger, capsys, tmp_path / "b.ach")["file"]
    traced = _traced(ach_ledger, UUID(second["fileId"]))
    assert list(traced.values()) == [added]
    assert [sequence_of(t) for t in traced] == [max(map(sequence_of, before)) + 1]
    assert second["name"][:-1] == first["name"][:-1]
    assert second["name"][-1] > first["name"][-1]  # the next file ID modifier of the day

    assert generate(ach_ledger, capsys, tmp_path / "c.ach")["file"] is None
    assert not (tmp_path / "c.ach").exists()


def test_a_generator_killed_after_recording_its_file_is_finished_by_the_next_run(
        ach_ledger: AchLedger, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    queued = [submitted(ach_ledger, workflow, amount) for workflow, amount in
              ((Workflow.PUSH, "10.00"), (Workflow.PULL, "11.00"), (Workflow.PUSH, "12.00"))]
    # With no workflow processor to answer, the generator records its file and waits.
    ach_ledger.workflows.stop()
    known = set(files(ach_ledger))
    child = generate_process(ach_ledger, tmp_path / "killed.ach", tmp_path / "generate.log")
    try:
        while not set(files(ach_ledger)) - known:
            assert child.poll() is None, (tmp_path / "generate.log").read_text()
            time.sleep(0.1)
    finally:
        child.kill()  # SIGKILL
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    (file_id,) = set(files(ach_ledger)) - known
    assert files(ach_ledger)[file_id].status is AchFileStatus.PROCESSING
    at_kill = {e.trace_number: e.execution_id for e in entries(ach_ledger, file_id)[file_id]}
    assert sorted(at_kill.values()) == sorted(queued)
    assert not (tmp_path / "killed.ach").exists()

    ach_ledger.workflows.start()
    answer = generate(ach_ledger, capsys, tmp_path / "resumed.ach")
    assert answer["resumed"] is True
    assert (answer["file"]["fileId"], answer["file"]["status"]) == (str(file_id), "COMPLETED")
    assert _traced(ach_ledger, file_id) == at_kill
    parsed = parse((tmp_path / "resumed.ach").read_text(), origination=True).file
    assert [entry.detail["trace_number"] for entry in parsed.entries] == sorted(at_kill)

    # Across every file: each trace number once, each execution in one file.
    recorded = [entry for found in entries(ach_ledger, *files(ach_ledger)).values()
                for entry in found]
    assert Counter(e.trace_number for e in recorded).most_common(1)[0][1] == 1
    assert Counter(e.execution_id for e in recorded).most_common(1)[0][1] == 1
    assert generate(ach_ledger, capsys, tmp_path / "none.ach")["file"] is None


# A posting on the settlement account that no ACH workflow made: an operator's adjustment.
ADJUST = TranCode.model_validate({
    "tranCodeId": "5a1c0d3e-8b7f-4c2a-9e61-3f0b2d4c6b41", "code": "ACH_TEST_ADJUST",
    "params": [{"name": "amount", "type": "DECIMAL"}],
    "transaction": {"journalId": f"uuid('{ach.JOURNAL.journal_id}')"},
    "entries": [{"accountId": f"uuid('{account}')", "units": "params.amount",
                 "currency": "'USD'", "direction": direction}
                for account, direction in ((ach.SETTLEMENT.account_id, "DEBIT"),
                                           (CASH.account_id, "CREDIT"))]})


def _reconcile(ach_ledger: AchLedger, capsys: pytest.CaptureFixture[str],
               *which: str) -> tuple[int, dict[str, Any]]:
    status, out = ledger(capsys, "--json", "ach", "reconcile", *kafka_args(ach_ledger), *which)
    return status, json.loads(out)


def test_reconcile_finds_no_difference_when_files_ledger_and_settlement_agree(
        ach_ledger: AchLedger, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    submitted(ach_ledger, Workflow.PUSH, "70.00")
    submitted(ach_ledger, Workflow.PULL, "30.01")
    file = generate(ach_ledger, capsys, tmp_path / "day.ach")["file"]
    day = datetime.fromisoformat(file["createdAt"]).astimezone(UTC).date()

    status, answer = _reconcile(ach_ledger, capsys, "--date", day.isoformat())
    assert (status, answer["differences"]) == (0, [])
    reconciled = {f["fileId"]: f for f in answer["files"]}
    assert len(reconciled) >= 2  # this module's files of the day
    mine = reconciled[file["fileId"]]
    assert (mine["ledger"], mine["fromEntries"]["totalCredit"],
            mine["fromEntries"]["totalDebit"]) == (
        {"totalCredit": "70.00", "totalDebit": "30.01"}, "70.00", "30.01")
    (settlement,) = answer["settlement"]
    assert settlement["accountId"] == str(ach.SETTLEMENT.account_id)
    assert {layer: net["outside"] for layer, net in settlement["netDebit"].items()} == \
        dict.fromkeys(("SETTLED", "PENDING", "ENCUMBRANCE"), "0")

    assert _reconcile(ach_ledger, capsys, "--file-id", file["fileId"])[0] == 0


def test_reconcile_reports_a_voided_entry_and_postings_outside_the_workflow(
        ach_ledger: AchLedger, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    customer = ach_ledger.customer()
    push = submitted(ach_ledger, Workflow.PUSH, "40.00", customer)
    submitted(ach_ledger, Workflow.PULL, "15.00", customer)
    file = generate(ach_ledger, capsys, tmp_path / "differs.ach")["file"]
    day = datetime.fromisoformat(file["createdAt"]).astimezone(UTC).date()
    client = ach_ledger.ledger.clients[0]
    submit = task_transaction_id(push, Task.SUBMIT)
    voided = client.void(submit, customer)
    assert voided.ok, voided
    assert client.create(ADJUST).ok
    adjustment = uuid.uuid4()
    assert client.post(adjustment, ADJUST.code, {"amount": "5.00"}, ach.SETTLEMENT.account_id).ok

    status, answer = _reconcile(ach_ledger, capsys, "--date", day.isoformat())
    assert status == 1
    found = {(d["code"], d.get("transactionId")) for d in answer["differences"]}
    assert found == {("entry_transaction_voided", str(submit)),
                     ("settlement_posting_outside_workflow", str(voided.transaction_id)),
                     ("settlement_posting_outside_workflow", str(adjustment))}
    (settlement,) = answer["settlement"]
    # The void gives back the 40.00 credit on SETTLED, the adjustment debits 5.00 more.
    assert settlement["netDebit"]["SETTLED"]["outside"] == "45.00"

    status, answer = _reconcile(ach_ledger, capsys, "--file-id", file["fileId"])
    assert (status, [d["code"] for d in answer["differences"]]) == \
        (1, ["entry_transaction_voided"])
    assert answer["settlement"] == []
