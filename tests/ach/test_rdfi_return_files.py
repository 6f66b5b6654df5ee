"""`ledger ach file returns` on the real broker: a received file processed with entries
returned by the decisioning webhook and through the exception account, then its return
file written and held against those decisions; a file with nothing returned, one never
processed and one not finished."""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from connectors.ach.received import ReceivedFile, read_received
from ledger_core import Layer, VelocityLimit
from ledger_core import ach_tran_codes as ach
from nacha import parse
from tests.ach.conftest import AchLedger
from tests.ach.rdfi_support import (
    ORIGIN_ROUTING,
    DecisioningWebhook,
    Forward,
    forward_file,
    returns_command,
)

EFFECTIVE = date(2025, 11, 14)
BANK_DFI = ach.CONFIGURATION.odfi.immediate_origin[:8]
Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def returns(ach_ledger: AchLedger, tmp_path: Path) -> Run:
    """Write the content to a file and run `ledger ach file returns` on it."""
    def run(content: bytes, *extra: str) -> subprocess.CompletedProcess[str]:
        path = tmp_path / f"received-{uuid.uuid4().hex[:6]}.ach"
        path.write_bytes(content)
        command = returns_command(ach_ledger.ledger.bootstrap, ach_ledger.ledger.topics.prefix,
                                  path, str(ach.CONFIGURATION.config_id), *extra)
        return subprocess.run(command, capture_output=True, text=True, timeout=300,
                              check=False)
    return run


def _traces(content: bytes) -> dict[str, str]:
    """The received file's trace numbers by DFI account number."""
    received = read_received(content, ach.CONFIGURATION.config_id)
    assert isinstance(received, ReceivedFile)
    return {item.detail["dfi_account_number"]: item.entry.trace_number
            for item in received.items}


def _processed(process: Any, content: bytes, *extra: str) -> dict[str, Any]:
    status, report, stderr = process(content, *extra)
    assert status == 0, stderr
    assert report is not None
    return report


def test_the_return_file_holds_exactly_the_returned_entries(
        ach_ledger: AchLedger, webhook: DecisioningWebhook, process: Any, returns: Run,
        tmp_path: Path) -> None:
    """Three entries the webhook returns and a debit the ledger refuses (EXCEPTION, R01)
    come back, each with its code and the return transaction code of its own; the entry
    settled and the one suspended do not."""
    alice, heidi = ach_ledger.customer(), ach_ledger.customer()
    assert ach_ledger.ledger.clients[0].create(
        VelocityLimit.no_overdraft(heidi, layer=Layer.SETTLED)).ok
    webhook.answers.update({
        "5000000001": {"action": "SETTLE", "accountId": str(alice)},
        "5000000002": {"action": "RETURN", "accountId": str(alice), "returnCode": "R03"},
        "5000000003": {"action": "RETURN", "returnCode": "R10"},
        "5000000004": {"action": "RETURN", "returnCode": "R02"},
        "5000000005": {"action": "SETTLE", "accountId": str(heidi)},
        "5000000006": {"action": "SETTLE", "accountId": str(uuid.uuid4())}})
    content = forward_file([Forward(22, 1000, "5000000001"), Forward(22, 300, "5000000002"),
                            Forward(27, 400, "5000000003"), Forward(32, 250, "5000000004"),
                            Forward(37, 250_000, "5000000005"), Forward(22, 500, "5000000006")],
                           modifier="A", effective=EFFECTIVE)
    report = _processed(process, content)
    assert (report["status"], report["outcomes"]) == (
        "COMPLETED", {"EXCEPTION": 1, "RETURNED": 3, "SETTLED": 1, "SUSPENDED": 1})
    trace = _traces(content)
    output = tmp_path / "returns.ach"

    done = returns(content, "--output", str(output), "--first-sequence", "41",
                   "--file-id-modifier", "R")

    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    written = output.read_text()
    parsed = parse(written, origination=True)  # strict: raises on any broken rule
    assert parsed.ok
    found = {entry.addenda[0]["original_entry_trace_number"]:
             (entry.addenda[0]["return_reason_code"], entry.detail.number("transaction_code"),
              entry.detail.number("amount"), entry.detail["dfi_account_number"])
             for entry in parsed.file.entries}
    assert found == {trace["5000000002"]: ("R03", 21, 300, "5000000002"),
                     trace["5000000003"]: ("R10", 26, 400, "5000000003"),
                     trace["5000000004"]: ("R02", 31, 250, "5000000004"),
                     trace["5000000005"]: ("R01", 36, 250_000, "5000000005")}
    assert [entry.detail["trace_number"] for entry in parsed.file.entries] == [
        f"{BANK_DFI}{sequence:07d}" for sequence in range(41, 45)]
    assert {entry.detail["receiving_dfi_identification"] for entry in parsed.file.entries} == {
        ORIGIN_ROUTING[:8]}
    header = parsed.file.header
    assert header is not None
    odfi = ach.CONFIGURATION.odfi
    assert (header["immediate_destination"], header["immediate_origin"],
            header["immediate_origin_name"], header["file_id_modifier"]) == (
        ORIGIN_ROUTING, odfi.immediate_origin, odfi.immediate_origin_name, "R")
    file_id = str(read_received(content, ach.CONFIGURATION.config_id).file_id)
    assert done.stderr.strip() == (
        f"file {file_id}: 4 entries returned (R01 1, R02 1, R03 1, R10 1); credits returned "
        f"5.50, debits returned 2504.00; return file written to {output}")

    # to stdout, with the summary as JSON on stderr: the same file but for its creation time
    again = returns(content, "--json", "--first-sequence", "41", "--file-id-modifier", "R")
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[1:] == written.splitlines()[1:]
    assert json.loads(again.stderr) == {
        "fileId": file_id, "returned": 4, "returnCodes": {"R01": 1, "R02": 1, "R03": 1, "R10": 1},
        "totalCredit": "5.50", "totalDebit": "2504.00", "output": "-"}
    for said in (done.stderr, again.stderr):
        assert "500000000" not in said and "JANE DOE" not in said


def test_a_file_with_nothing_returned_writes_no_file(
        ach_ledger: AchLedger, webhook: DecisioningWebhook, process: Any, returns: Run,
        tmp_path: Path) -> None:
    bob = ach_ledger.customer()
    webhook.answers["5100000001"] = {"action": "SETTLE", "accountId": str(bob)}
    content = forward_file([Forward(22, 700, "5100000001")], modifier="B", effective=EFFECTIVE)
    assert _processed(process, content)["outcomes"] == {"SETTLED": 1}
    output = tmp_path / "returns.ach"

    done = returns(content, "--output", str(output))

    assert done.returncode == 0, done.stderr
    assert "no entry was returned; no return file written" in done.stderr
    assert not output.exists() and done.stdout == ""


def test_a_file_never_processed_is_refused(ach_ledger: AchLedger, returns: Run,
                                           tmp_path: Path) -> None:
    content = forward_file([Forward(22, 700, "5200000001")], modifier="C", effective=EFFECTIVE)
    output = tmp_path / "returns.ach"

    done = returns(content, "--output", str(output))

    assert done.returncode == 1
    file_id = read_received(content, ach.CONFIGURATION.config_id).file_id
    assert f"ach_file_not_found: file {file_id} was never processed" in done.stderr
    assert not output.exists() and done.stdout == ""


def test_a_file_not_finished_is_refused_until_it_is(
        ach_ledger: AchLedger, webhook: DecisioningWebhook, process: Any, returns: Run,
        tmp_path: Path) -> None:
    """An entry dated ahead could still go to the exception account on its date: until the
    file is COMPLETED, its returns are not known, and none are written."""
    erin = ach_ledger.customer()
    webhook.answers["5300000001"] = {"action": "SETTLE", "accountId": str(erin)}
    webhook.answers["5300000002"] = {"action": "RETURN", "returnCode": "R03"}
    content = forward_file([Forward(22, 4200, "5300000001"), Forward(22, 100, "5300000002")],
                           modifier="D", effective=date(2030, 1, 10))
    assert _processed(process, content, "--today", "2030-01-07")["status"] == "PROCESSING"
    output = tmp_path / "returns.ach"

    early = returns(content, "--output", str(output))

    assert early.returncode == 1
    assert "ach_file_not_completed" in early.stderr and "is PROCESSING" in early.stderr
    assert not output.exists()

    assert _processed(process, content, "--today", "2030-01-10")["status"] == "COMPLETED"
    done = returns(content, "--output", str(output))
    assert done.returncode == 0, done.stderr
    (entry,) = parse(output.read_text()).file.entries
    assert (entry.addenda[0]["original_entry_trace_number"],
            entry.addenda[0]["return_reason_code"]) == (_traces(content)["5300000002"], "R03")
