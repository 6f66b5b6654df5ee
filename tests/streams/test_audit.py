"""`ledger audit` on the real log: a clean ledger proves, a tampered one is caught."""

import json
import subprocess
import sys
import uuid
from decimal import Decimal

from confluent_kafka import Producer
from rocksdict import Options, Rdict

from ledger_core import Account, tutorial
from schemas.codec import codec
from streams.state import BALANCE
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


def _deposit_everyone(ledger: KafkaLedger, customers: tuple[Account, ...]) -> None:
    client = ledger.client()
    sent = [client.send_post(uuid.uuid4(), "DEPOSIT", {"account": str(c.account_id),
                                                         "amount": "3.00"}, owner=c.account_id)
            for c in customers]
    assert {r.status for r in client.wait(sent, 120).values()} == {"POSTED"}


def test_state_left_behind_by_a_rebalance_is_compared_as_far_as_it_reaches(
    kafka_ledger: KafkaLedger,
) -> None:
    """A processor that gave its partitions back keeps their older state, which is no
    violation; a current state that differs from the replay is one."""
    first = kafka_ledger.add_processor("p1")
    bank = open_bank(kafka_ledger.client(), customers=12, limited=False)
    _deposit_everyone(kafka_ledger, bank.customers)
    second = kafka_ledger.add_processor("p2")
    _deposit_everyone(kafka_ledger, bank.customers)
    second.stop()
    _deposit_everyone(kafka_ledger, bank.customers)
    kafka_ledger.client().wait_converged(60)
    first.stop()
    assert sorted(second.state_dir.glob("partition-*")), "p2 never owned a partition"

    code, report = _audit(kafka_ledger, "--state-dir", str(first.state_dir),
                          "--state-dir", str(second.state_dir))
    assert (code, report["violations"]) == (0, [])

    # Random account ids may leave a partition without any balance: tamper with one that has.
    stored = None
    for partition in sorted(first.state_dir.glob("partition-*")):
        db = Rdict(str(partition), Options(raw_mode=True))
        stored = next(((k, v) for k, v in db.items(from_key=BALANCE) if k.startswith(BALANCE)),
                      None)
        if stored is not None:
            break
        db.close()
    assert stored is not None, "p1's state holds no balance at all"
    key, value = stored
    record = codec().decode("balance", value)
    record["settled"]["cr_balance"] = str(Decimal(record["settled"]["cr_balance"]) + 1)
    db[key] = codec().encode("balance", record)
    db.close()

    code, report = _audit(kafka_ledger, "--state-dir", str(first.state_dir))
    assert code == 1
    [violation] = report["violations"]  # type: ignore[misc]
    assert violation["rule"] == "state_must_equal_the_replay"
    assert violation["ids"]["account_id"] == record["account_id"]
