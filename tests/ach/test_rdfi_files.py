"""Received NACHA files on the real broker, through `ledger ach file process` and the upload
endpoint, with a decisioning webhook on loopback: settlements, suspense, returns through
the exception account, a timeout, a file processed twice, a processor SIGKILLed halfway,
returns matched by trace number, an unmatched return, a NOC, and a broken file."""

from __future__ import annotations

import json
import re
import secrets
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from connectors.ach.executions import read_executions
from connectors.ach.files import AchFileStatus, read_files
from connectors.ach.notifications import Notification
from connectors.ach.rdfi_entries import EntryStage, RdfiFileEntry, read_rdfi_entries
from connectors.ach.received import ReceivedFile, read_received
from connectors.ach.topics import AchTopics
from ledger_core import Layer, VelocityLimit
from ledger_core import ach_tran_codes as ach
from ledger_core.ach_workflows import State, Workflow
from streams.audit_log import run_audit
from streams.local_kafka.node import kill, terminate
from tests.ach.ach_files import generate, submitted
from tests.ach.conftest import FUNDED, AchLedger
from tests.ach.rdfi_support import (
    SLOW,
    UNSIGNED,
    DecisioningWebhook,
    Forward,
    Returned,
    forward_file,
    return_file,
)

EFFECTIVE = date(2025, 11, 14)
ZERO = Decimal(0)


def _topics(ach_ledger: AchLedger) -> AchTopics:
    return AchTopics(ach_ledger.ledger.topics.prefix, ach_ledger.ledger.topics.partitions)


def _available(ach_ledger: AchLedger, account_id: UUID) -> tuple[Decimal, ...]:
    try:
        return ach_ledger.available(account_id)
    except AssertionError:  # no balance yet
        return (ZERO, ZERO, ZERO)


def _delta(after: tuple[Decimal, ...], before: tuple[Decimal, ...]) -> tuple[Decimal, ...]:
    return tuple(a - b for a, b in zip(after, before, strict=True))


def _file_id(content: bytes) -> UUID:
    received = read_received(content, ach.CONFIGURATION.config_id)
    return received.file_id


def _entries(ach_ledger: AchLedger, file_id: UUID) -> dict[str, RdfiFileEntry]:
    return read_rdfi_entries(ach_ledger.ledger.bootstrap, _topics(ach_ledger), file_id)


def _posted_counts(ach_ledger: AchLedger, transaction_ids: set[str]) -> Counter[str]:
    """How many times the ledger posted each of the transactions."""
    return Counter(result["transaction_id"] for result in ach_ledger.ledger.results()
                   if result["status"] == "POSTED" and result["transaction_id"] in
                   transaction_ids)


def test_entries_settle_return_and_go_to_suspense(ach_ledger: AchLedger,
                                                  webhook: DecisioningWebhook,
                                                  process: Any) -> None:
    """Credits settle to their customers, a debit leaves one; an unknown account, a timeout
    and a forged answer go to suspense, a RETURN to the exception account."""
    alice, bob = ach_ledger.customer(), ach_ledger.customer()
    webhook.answers.update({
        "1000000001": {"action": "SETTLE", "accountId": str(alice)},
        "1000000002": {"action": "SETTLE", "accountId": str(bob)},
        "1000000003": {"action": "SETTLE", "accountId": str(uuid.uuid4())},
        "1000000004": {"action": "RETURN", "accountId": str(alice), "returnCode": "R03"},
        "1000000005": SLOW, "1000000006": UNSIGNED})
    content = forward_file([Forward(22, 1000, "1000000001"), Forward(32, 250, "1000000001"),
                            Forward(27, 400, "1000000002"), Forward(22, 700, "1000000003"),
                            Forward(22, 300, "1000000004"), Forward(22, 500, "1000000005"),
                            Forward(22, 100, "1000000006")], modifier="A", effective=EFFECTIVE)
    houses = {account.account_id: _available(ach_ledger, account.account_id)
              for account in (ach.SUSPENSE, ach.EXCEPTION, ach.SETTLEMENT)}

    status, report, stderr = process(content, "--decisioning-timeout", "1")

    assert status == 0, stderr
    assert report is not None
    assert (report["status"], report["fileType"], report["posted"]) == ("COMPLETED", "RDFI", 7)
    assert report["outcomes"] == {"RETURNED": 1, "SETTLED": 3, "SUSPENDED": 3}
    assert (report["statistics"]["entries"], report["statistics"]["totalCreditCents"],
            report["statistics"]["totalDebitCents"]) == (7, 2850, 400)
    assert ach_ledger.available(alice) == (FUNDED + Decimal("12.50"),) * 3
    assert ach_ledger.available(bob) == (FUNDED - Decimal("4.00"),) * 3
    moved = {account_id: _delta(_available(ach_ledger, account_id), before)
             for account_id, before in houses.items()}
    assert moved == {ach.SUSPENSE.account_id: (Decimal("13.00"),) * 3,
                     ach.EXCEPTION.account_id: (Decimal("3.00"),) * 3,
                     ach.SETTLEMENT.account_id: (Decimal("24.50"),) * 3}

    file_id = UUID(report["fileId"])
    entries = _entries(ach_ledger, file_id)
    assert {e.stage for e in entries.values()} == {EntryStage.DONE}
    assert sorted(str(e.decision.reason) for e in entries.values()
                  if e.decision.reason is not None) == [
        "account_not_found", "answer_signature_invalid", "webhook_timeout"]
    returned = next(e for e in entries.values() if e.decision.return_code == "R03")
    assert returned.decision.account_id == alice
    record = read_files(ach_ledger.ledger.bootstrap, _topics(ach_ledger))[file_id]
    assert (record.status, record.statistics.entries_unprocessed) == (AchFileStatus.COMPLETED, 0)
    # The webhook saw each entry once, with its amount as a decimal string and its own id.
    seen = [r for r in webhook.requests if r["fileId"] == str(file_id)]
    assert sorted(r["entryDetail"]["amount"] for r in seen) == [
        "1.00", "10.00", "2.50", "3.00", "4.00", "5.00", "7.00"]
    assert len({r["executionId"] for r in seen}) == 7
    # No account number on the file's topics.
    for topic in (_topics(ach_ledger).file_entries, _topics(ach_ledger).files):
        assert not any(b"100000000" in (m.value() or b"") for m in ach_ledger.ledger.read(topic))


def test_a_debit_the_ledger_refuses_goes_to_the_exception_account(
        ach_ledger: AchLedger, webhook: DecisioningWebhook, process: Any) -> None:
    """A debit beyond the customer's no-overdraft limit is refused by the ledger and posted
    to the exception account instead, to be returned R01; the customer is untouched."""
    heidi = ach_ledger.customer()
    assert ach_ledger.ledger.clients[0].create(
        VelocityLimit.no_overdraft(heidi, layer=Layer.SETTLED)).ok
    webhook.answers["1000000021"] = {"action": "SETTLE", "accountId": str(heidi)}
    content = forward_file([Forward(27, 250_000, "1000000021")], modifier="G",
                           effective=EFFECTIVE)
    exception_before = _available(ach_ledger, ach.EXCEPTION.account_id)

    status, report, stderr = process(content)

    assert status == 0, stderr
    assert report is not None
    assert (report["status"], report["outcomes"]) == ("COMPLETED", {"EXCEPTION": 1})
    assert ach_ledger.available(heidi) == (FUNDED,) * 3
    assert _delta(_available(ach_ledger, ach.EXCEPTION.account_id), exception_before) == \
        (Decimal("-2500.00"),) * 3
    (entry,) = _entries(ach_ledger, UUID(report["fileId"])).values()
    assert (entry.decision.return_code, entry.decision.rejection) == \
        ("R01", "velocity_limit_exceeded")


def test_uploaded_twice_and_processed_again_posts_once(
        ach_ledger: AchLedger, webhook: DecisioningWebhook, process: Any,
        secret_file: tuple[str, Path], tmp_path: Path) -> None:
    """The upload endpoint posts a file; uploading it again and processing it from the
    command line post nothing more, and both runs report the entries as already done."""
    carol = ach_ledger.customer()
    webhook.answers["1000000011"] = {"action": "SETTLE", "accountId": str(carol)}
    content = forward_file([Forward(22, 1234, "1000000011"), Forward(22, 766, "1000000011")],
                           modifier="B", effective=EFFECTIVE)
    log_file = tmp_path / "serve.log"
    command = process.command(tmp_path / "unused.ach")
    token = secrets.token_urlsafe(32)
    token_file = tmp_path / "upload-token"
    token_file.write_text(token + "\n")
    serve = [*command[:5], "serve", "--port", "0", "--upload-token-file", str(token_file),
             *command[7:]]
    serve.remove("--json")
    with open(log_file, "wb") as log:
        server = subprocess.Popen(serve, stdout=log, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        url = _served_url(server, log_file)
        refused = [_upload(url, content, header) for header in
                   (None, "Bearer not-the-token", f"Basic {token}", token)]
        first, first_status = _upload(url, content, f"Bearer {token}")
        again, again_status = _upload(url, content, f"Bearer {token}")
    finally:
        terminate(server.pid, 30)
        server.wait(30)
    status, by_command, stderr = process(content)

    assert [(status, body["code"]) for body, status in refused] == \
        [(401, "unauthenticated")] * 4
    assert token not in log_file.read_text()
    # Nothing was posted by the refused uploads: the first accepted one posts both entries.
    assert (first_status, first["status"], first["posted"], first["alreadyDone"]) == \
        (200, "COMPLETED", 2, 0)
    assert (again_status, again["status"], again["posted"], again["alreadyDone"]) == \
        (200, "COMPLETED", 0, 2)
    assert status == 0, stderr
    assert by_command is not None
    assert (by_command["fileId"], by_command["posted"], by_command["alreadyDone"]) == \
        (first["fileId"], 0, 2)
    assert ach_ledger.available(carol) == (FUNDED + Decimal("20.00"),) * 3
    entries = _entries(ach_ledger, UUID(first["fileId"]))
    transaction_ids = {str(e.transaction_id) for e in entries.values()}
    assert _posted_counts(ach_ledger, transaction_ids) == dict.fromkeys(transaction_ids, 1)


def test_a_processor_killed_halfway_loses_and_doubles_nothing(
        ach_ledger: AchLedger, webhook: DecisioningWebhook, process: Any,
        tmp_path: Path) -> None:
    """SIGKILLed while entries are in flight, then run again: every entry posted once, the
    customer's balance the file's total, and the ledger's audit clean."""
    dave = ach_ledger.customer()
    webhook.answers["2000000001"] = {"action": "SETTLE", "accountId": str(dave)}
    amounts = [100 + number for number in range(300)]
    content = forward_file([Forward(22, cents, "2000000001") for cents in amounts],
                           modifier="C", effective=EFFECTIVE)
    file_id = _file_id(content)
    path = tmp_path / "big.ach"
    path.write_bytes(content)
    webhook.delay_s = 0.02
    try:
        running = subprocess.Popen(process.command(path, "--concurrency", "4"),
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   start_new_session=True)
        deadline = time.monotonic() + 120
        while sum(e.stage is EntryStage.DONE for e in _entries(ach_ledger, file_id).values()
                  ) < 40:
            assert running.poll() is None, "the run ended before the kill"
            assert time.monotonic() < deadline, "no entries done"
            time.sleep(0.1)
        kill(running.pid)
        running.wait(30)
    finally:
        webhook.delay_s = 0.0
    done_at_kill = sum(e.stage is EntryStage.DONE
                       for e in _entries(ach_ledger, file_id).values())
    assert done_at_kill < len(amounts)

    status, report, stderr = process(content)

    assert status == 0, stderr
    assert report is not None and report["status"] == "COMPLETED"
    assert report["outcomes"] == {"SETTLED": len(amounts)}
    assert report["posted"] + report["alreadyDone"] == len(amounts)
    assert report["alreadyDone"] >= done_at_kill
    entries = _entries(ach_ledger, file_id)
    transaction_ids = {str(e.transaction_id) for e in entries.values()}
    assert len(transaction_ids) == len(amounts)
    assert _posted_counts(ach_ledger, transaction_ids) == dict.fromkeys(transaction_ids, 1)
    total = sum((Decimal(cents).scaleb(-2) for cents in amounts), ZERO)
    assert ach_ledger.available(dave) == (FUNDED + total,) * 3
    ledger = ach_ledger.ledger
    assert run_audit(ledger.bootstrap, ledger.topics, ledger.topics.partitions).violations == []


def test_an_entry_before_its_date_is_encumbered_then_settled(
        ach_ledger: AchLedger, webhook: DecisioningWebhook, process: Any) -> None:
    """A credit dated later waits on ENCUMBRANCE with the file PROCESSING; a run on its date
    settles it without asking the webhook again."""
    erin = ach_ledger.customer()
    webhook.answers["3000000001"] = {"action": "SETTLE", "accountId": str(erin)}
    content = forward_file([Forward(22, 4200, "3000000001")], modifier="D",
                           effective=date(2030, 1, 10))

    status, early, stderr = process(content, "--today", "2030-01-07")
    assert status == 0, stderr
    assert early is not None
    assert (early["status"], early["outcomes"]) == ("PROCESSING", {"ENCUMBERED": 1})
    assert early["statistics"]["entriesUnprocessed"] == 1
    assert ach_ledger.available(erin) == (FUNDED, FUNDED, FUNDED + Decimal("42.00"))

    status, on_date, stderr = process(content, "--today", "2030-01-10")
    assert status == 0, stderr
    assert on_date is not None
    assert (on_date["status"], on_date["outcomes"], on_date["posted"]) == \
        ("COMPLETED", {"SETTLED": 1}, 1)
    assert ach_ledger.available(erin) == (FUNDED + Decimal("42.00"),) * 3
    asked = [r for r in webhook.requests if r["entryDetail"]["dfiAccountNumber"] == "3000000001"]
    assert len(asked) == 1


def test_returns_and_a_noc_by_trace_number(ach_ledger: AchLedger, process: Any,
                                          capsys: pytest.CaptureFixture[str],
                                          tmp_path: Path) -> None:
    """A return of a generated entry runs its execution's RETURN; a return nothing matches
    goes to suspense and is reported; a NOC is recorded and moves no money."""
    frank, grace = ach_ledger.customer(), ach_ledger.customer()
    returned_id = submitted(ach_ledger, Workflow.PUSH, "150.00", frank)
    corrected_id = submitted(ach_ledger, Workflow.PUSH, "80.00", grace)
    generate(ach_ledger, capsys, tmp_path / "odfi.ach")
    executions = read_executions(ach_ledger.ledger.bootstrap, _topics(ach_ledger))
    returned_trace = executions[returned_id].trace_number
    corrected_trace = executions[corrected_id].trace_number
    assert returned_trace is not None and corrected_trace is not None
    grace_before = ach_ledger.available(grace)
    suspense_before = _available(ach_ledger, ach.SUSPENSE.account_id)
    content = return_file([Returned(returned_trace, "R01", cents=15000),
                           Returned("026009599999999", "R03", cents=2500),
                           Returned(corrected_trace, "C01", corrected="99988877766")],
                          modifier="E", effective=date(2025, 11, 20))

    status, report, stderr = process(content)

    assert status == 0, stderr
    assert report is not None
    assert (report["status"], report["fileType"]) == ("COMPLETED", "ODFI_RETURN")
    assert report["outcomes"] == {"NOTIFIED": 1, "RETURN_MATCHED": 1, "SUSPENDED": 1}
    received = read_received(content, ach.CONFIGURATION.config_id)
    assert isinstance(received, ReceivedFile)
    unmatched = next(item.entry.trace_number for item in received.items
                     if item.original_trace_number == "026009599999999")
    assert report["unmatchedReturns"] == [unmatched]
    after = read_executions(ach_ledger.ledger.bootstrap, _topics(ach_ledger))
    assert (after[returned_id].state, after[returned_id].return_code) == (State.RETURNED, "R01")
    assert after[corrected_id].state is State.SUBMITTED
    fee = Decimal("0.25")
    assert ach_ledger.available(frank) == (FUNDED - fee,) * 3
    assert ach_ledger.available(grace) == grace_before
    assert _delta(_available(ach_ledger, ach.SUSPENSE.account_id), suspense_before) == \
        (Decimal("25.00"),) * 3
    notifications = [Notification.model_validate_json(m.value()) for m in
                     ach_ledger.ledger.read(_topics(ach_ledger).notifications)]
    assert [(n.original_trace_number, n.change_code, n.corrected_data, n.execution_id)
            for n in notifications] == [(corrected_trace, "C01", "99988877766", corrected_id)]
    matched = next(e for e in _entries(ach_ledger, UUID(report["fileId"])).values()
                   if e.original_trace_number == returned_trace)
    assert matched.matched_execution_id == returned_id

    status, again, stderr = process(content)
    assert status == 0, stderr
    assert again is not None and (again["posted"], again["alreadyDone"]) == (0, 3)
    assert ach_ledger.available(frank) == (FUNDED - fee,) * 3


def test_a_broken_file_fails_with_its_rule_and_posts_nothing(
        ach_ledger: AchLedger, webhook: DecisioningWebhook, process: Any) -> None:
    """A file whose control totals do not match its entries is FAILED with the first rule it
    breaks, named by record and field, never by the content; nothing is asked or posted."""
    content = forward_file([Forward(22, 1000, "4000000001")], modifier="F", effective=EFFECTIVE)
    lines = content.decode().split("\n")
    lines[2] = lines[2][:29] + "0000009999" + lines[2][39:]  # the entry's amount
    broken = "\n".join(lines).encode()
    asked = len(webhook.requests)

    status, report, stderr = process(broken)

    assert status == 1 and report is None
    assert re.search(r"FAILED: record \d+, [a-z_]+ \(\d+-\d+\): total_credit_mismatch", stderr), \
        stderr
    assert "4000000001" not in stderr
    file_id = _file_id(broken)
    record = read_files(ach_ledger.ledger.bootstrap, _topics(ach_ledger))[file_id]
    assert record.status is AchFileStatus.FAILED
    assert record.error is not None and "total_credit_mismatch" in record.error
    assert _entries(ach_ledger, file_id) == {}
    assert len(webhook.requests) == asked


def _served_url(server: subprocess.Popen[bytes], log_file: Path) -> str:
    deadline = time.monotonic() + 60
    while True:
        found = re.search(r"serving ACH file uploads at (\S+)", log_file.read_text())
        if found:
            return found.group(1)
        assert server.poll() is None, log_file.read_text()
        assert time.monotonic() < deadline, log_file.read_text()
        time.sleep(0.1)


def _upload(url: str, content: bytes, authorization: str | None
            ) -> tuple[dict[str, Any], int]:
    headers = {"content-type": "application/octet-stream"}
    if authorization is not None:
        headers["authorization"] = authorization
    request = urllib.request.Request(f"{url}?name=payroll.ach", data=content, method="POST",
                                     headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return json.loads(response.read()), response.status
    except urllib.error.HTTPError as error:
        return json.loads(error.read()), error.code
