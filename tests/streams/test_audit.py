"""`ledger audit` on the real log: a clean ledger proves, a tampered one is caught."""

import json
import subprocess
import sys
import uuid

from confluent_kafka import Producer

from ledger_core import tutorial
from tests.streams.bank import open_bank
from tests.streams.conftest import KafkaLedger


def _audit(ledger: KafkaLedger, *extra: str) -> tuple[int, dict[str, object]]:
    proc = subprocess.run(
        [sys.executable, "-m", "ledger_cli", "audit", "--json", "--bootstrap-servers",
         ledger.bootstrap, "--topic-prefix", ledger.topics.prefix, *extra],
        capture_output=True, text=True, timeout=300, check=False)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def test_a_clean_ledger_audits_without_violations_then_tampering_is_caught(
    kafka_ledger: KafkaLedger,
) -> None:
    """Zero violations on the processor's log; a duplicated entry is named with its offset."""
    processor = kafka_ledger.add_processor()
    client = kafka_ledger.client()
    bank = open_bank(client, customers=6)
    for entity in (tutorial.JOURNAL, *tutorial.ACCOUNTS, *tutorial.TRAN_CODES):
        client.create(entity)
    sent = [client.send_post(uuid.uuid4(), "DEPOSIT", {"account": str(c.account_id),
                                                         "amount": "7.00"}, owner=c.account_id)
            for c in bank.customers for _ in range(10)]
    sent += [client.send_post(uuid.uuid4(), "WITHDRAW", {"account": str(c.account_id),
                                                           "amount": "80.00"},
                              owner=c.account_id) for c in bank.customers]
    results = client.wait(sent, 120)
    assert {r.code for r in results.values()} == {None, "velocity_limit_exceeded"}
    client.wait_converged(60)
    processor.stop()

    code, report = _audit(kafka_ledger, "--state-dir", str(processor.state_dir))
    assert (code, report["violations"]) == (0, [])
    assert report["entries"] == 2 * 6 * 10

    [entry] = kafka_ledger.read(kafka_ledger.topics.entries)[:1]
    tamper = Producer({"bootstrap.servers": kafka_ledger.bootstrap})
    tamper.produce(entry.topic(), entry.value(), entry.key(), partition=entry.partition())
    assert tamper.flush(30) == 0

    code, report = _audit(kafka_ledger)
    rules = {v["rule"] for v in report["violations"]}  # type: ignore[attr-defined]
    assert code == 1
    assert rules == {"entry_must_be_unique"}
    [duplicate] = report["violations"]  # type: ignore[misc]
    assert duplicate["position"].startswith(f"{kafka_ledger.topics.entries}[{entry.partition()}]@")
