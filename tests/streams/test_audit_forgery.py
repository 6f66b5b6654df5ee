"""`ledger audit` against forged and poisoned records on the internal topics, on the real
log of a real processor: what the forgeries did is reported, and nothing crashes the audit."""

import json
import random
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from confluent_kafka import Producer

from ledger_core import Account, ControlAttachment, Direction, Entry, Layer, VelocityLimit
from ledger_core.catalog import CatalogKind
from schemas import mapping
from schemas.codec import codec
from streams.catalog import catalog_key, catalog_value
from streams.client import LedgerClient
from streams.partitioning import account_key, owner_partition
from tests.streams.bank import HOUSE, Bank, open_bank
from tests.streams.conftest import KafkaLedger


def _run_audit(ledger: KafkaLedger, *extra: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "ledger_cli", "audit", "--bootstrap-servers", ledger.bootstrap,
         "--topic-prefix", ledger.topics.prefix, "--no-progress", *extra],
        capture_output=True, text=True, timeout=300, check=False)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def _audit(ledger: KafkaLedger) -> tuple[int, dict[str, Any]]:
    proc = _run_audit(ledger, "--json")
    return proc.returncode, json.loads(proc.stdout)


def _rules(report: dict[str, Any]) -> list[str]:
    return sorted(v["rule"] for v in report["violations"])


def _post(client: LedgerClient, code: str, account: Account, amount: str) -> Any:
    return client.post(uuid.uuid4(), code, {"account": str(account.account_id),
                                            "amount": amount}, account.account_id)


def _position_of(ledger: KafkaLedger, topic: str, value: bytes | None) -> str:
    """Where the record with these bytes sits, as the audit names positions."""
    [message] = [m for m in ledger.read(topic) if m.value() == value]
    return f"{message.topic()}[{message.partition()}]@{message.offset()}"


def _applied_command(ledger: KafkaLedger, entity_key: str, entity_id: str) -> str:
    """The command id of the APPLIED result whose entity has ``entity_key`` = ``entity_id``."""
    [command_id] = [r["command_id"] for r in ledger.results() if r["status"] == "APPLIED"
                    and json.loads(r["entity_json"]).get(entity_key) == entity_id]
    return str(command_id)


def test_a_forged_looser_limit_is_caught_with_the_overdraft_it_allowed(
    kafka_ledger: KafkaLedger,
) -> None:
    """A forged catalog record lowers a customer's floor; the processor then accepts an
    overdraft. The audit checks the overdraft against the genuine limit of the APPLIED
    history (not the compacted catalog's latest value) and names the forged record."""
    processor = kafka_ledger.add_processor()
    client = kafka_ledger.client()
    [customer] = open_bank(client, customers=1).customers
    assert _post(client, "DEPOSIT", customer, "10.00").status == "POSTED"
    refused = _post(client, "WITHDRAW", customer, "5010.00")
    assert refused.code == "velocity_limit_exceeded"

    genuine = VelocityLimit.no_overdraft(customer.account_id, layer=Layer.SETTLED)
    forged = genuine.model_copy(update={"min_available": Decimal(-5000)})
    value = codec().encode("catalog_record", {
        "entity": catalog_value(forged),
        "command_id": _applied_command(kafka_ledger, "limitId", str(genuine.limit_id)),
        "written_at": datetime.now(UTC)})
    client.send_raw(kafka_ledger.topics.catalog,
                    codec().encode("catalog_key", catalog_key(forged)), value, 0)
    client.flush()
    # The catalog desk reads the catalog to its end before deciding: after this, the
    # processor holds the forged record.
    extra = Account(account_id=uuid.uuid4(), code=f"X.{uuid.uuid4().hex[:6]}", name="x")
    assert client.create(extra).status == "APPLIED"
    overdraft = _post(client, "WITHDRAW", customer, "5010.00")
    assert overdraft.status == "POSTED", "the forged limit did not take effect"
    client.wait_converged(60)
    processor.stop()

    code, report = _audit(kafka_ledger)
    assert code == 1
    assert _rules(report) == ["catalog_record_must_match_its_result", "limit_must_hold"]
    by_rule = {v["rule"]: v for v in report["violations"]}
    crossed = by_rule["limit_must_hold"]
    assert crossed["ids"] == {"account_id": str(customer.account_id),
                              "transaction_id": overdraft.transaction_id,
                              "limit_id": str(genuine.limit_id)}
    assert "to -5000.00 USD" in crossed["message"]
    assert by_rule["catalog_record_must_match_its_result"]["position"] == _position_of(
        kafka_ledger, kafka_ledger.topics.catalog, value)


def _remote_customer(bank: Bank, partitions: int) -> Account:
    """A customer whose partition is not the house's: its deposits send the house a leg."""
    house = owner_partition(HOUSE.account_id, partitions)
    return next(c for c in bank.customers if owner_partition(c.account_id, partitions) != house)


def test_forged_and_replayed_legs_are_named(kafka_ledger: KafkaLedger) -> None:
    """A properly encoded leg no posting wrote credits a customer 1,000, and a genuine leg
    written a second time debits the house again; the processor folds both. The audit
    names each leg with its position (and the balances they made differ from the replay)."""
    processor = kafka_ledger.add_processor()
    client = kafka_ledger.client()
    bank = open_bank(client, customers=12, limited=False)
    customer = _remote_customer(bank, kafka_ledger.topics.partitions)
    assert _post(client, "DEPOSIT", customer, "4.00").status == "POSTED"
    client.wait_converged(60)
    [genuine] = kafka_ledger.read(kafka_ledger.topics.legs)

    now = datetime.now(UTC)
    forged = codec().encode("entry", mapping.entry_record(Entry(
        entry_id=uuid.uuid4(), transaction_id=uuid.uuid4(),
        journal_id=uuid.UUID(codec().decode("entry", genuine.value())["journal_id"]),
        account_id=customer.account_id, sequence=1, units=Decimal("1000.00"), currency="USD",
        direction=Direction.CREDIT, entry_type="FORGED_CR", layer=Layer.SETTLED,
        effective=now.date(), created=now)))
    partition = owner_partition(customer.account_id, kafka_ledger.topics.partitions)
    client.send_raw(kafka_ledger.topics.legs, account_key(customer.account_id), forged,
                    partition)
    client.send_raw(kafka_ledger.topics.legs, genuine.key(), genuine.value(),
                    genuine.partition())
    client.wait_converged(60)
    [balance] = client.balances(customer.account_id)
    assert balance.settled.normal_balance == Decimal("1004.00"), "the forged leg was not folded"
    processor.stop()

    code, report = _audit(kafka_ledger)
    assert code == 1
    assert _rules(report) == ["cdc_must_equal_the_replay", "cdc_must_equal_the_replay",
                              "leg_must_be_unique", "leg_must_match_a_posted_entry"]
    by_rule = {v["rule"]: v for v in report["violations"]}
    legs = kafka_ledger.topics.legs
    assert by_rule["leg_must_match_a_posted_entry"]["position"] == _position_of(
        kafka_ledger, legs, forged)
    replayed = [m for m in kafka_ledger.read(legs) if m.value() == genuine.value()][-1]
    assert by_rule["leg_must_be_unique"]["position"] == (
        f"{legs}[{replayed.partition()}]@{replayed.offset()}")
    assert {v["ids"]["account_id"] for v in report["violations"]
            if v["rule"] == "cdc_must_equal_the_replay"} == {str(customer.account_id),
                                                             str(HOUSE.account_id)}


def test_records_that_do_not_decode_are_named_and_never_stop_the_audit(
    kafka_ledger: KafkaLedger,
) -> None:
    """Random bytes, framed nonsense, a tombstone and an entry whose units are not a number
    on the topics the processor does not consume: each is a record_must_decode violation
    with its position, and the rest of the log still audits clean."""
    processor = kafka_ledger.add_processor()
    client = kafka_ledger.client()
    [customer] = open_bank(client, customers=1).customers
    assert _post(client, "DEPOSIT", customer, "3.00").status == "POSTED"
    client.wait_converged(60)
    processor.stop()
    code, report = _audit(kafka_ledger)
    assert (code, report["violations"]) == (0, [])

    topics = kafka_ledger.topics
    now = datetime.now(UTC)
    nan_entry = codec().encode("entry", {
        **mapping.entry_record(kafka_ledger.entries()[0]), "entry_id": str(uuid.uuid4()),
        "units": "NaN", "created": now})
    noise = random.Random(20261122)
    poison = {
        topics.results: noise.randbytes(64),
        topics.transactions: b"\x4c\x00\x01" + b"\xff" * 40,
        topics.balances: b"\x4c\x00\x01",
        topics.entries: nan_entry,
        topics.dead_letters: noise.randbytes(7),
    }
    writer = kafka_ledger.client()
    for topic, value in poison.items():
        writer.send_raw(topic, noise.randbytes(8), value, 0)
    writer.flush()
    tombstone = Producer({"bootstrap.servers": kafka_ledger.bootstrap})
    tombstone.produce(topics.balances, None, b"tomb", partition=1)
    assert tombstone.flush(30) == 0

    code, report = _audit(kafka_ledger)
    assert code == 1
    assert _rules(report) == ["record_must_decode"] * (len(poison) + 1)
    expected = {_position_of(kafka_ledger, topic, value) for topic, value in poison.items()}
    expected.add(_position_of(kafka_ledger, topics.balances, None))
    assert {v["position"] for v in report["violations"]} == expected
    assert report["entries"] == 2


def test_quarantined_records_are_listed_apart_from_violations(
    kafka_ledger: KafkaLedger,
) -> None:
    """Dead letters (schema v2) for a leg and a catalog record that were not applied are
    listed as quarantined, with their source, code and error, and the exit status stays 0;
    the text report gives them their own section and says where to read how to resolve
    them."""
    processor = kafka_ledger.add_processor()
    client = kafka_ledger.client()
    [customer] = open_bank(client, customers=1).customers
    assert _post(client, "DEPOSIT", customer, "3.00").status == "POSTED"
    client.wait_converged(60)
    processor.stop()

    topics = kafka_ledger.topics
    garbled = random.Random(7).randbytes(32)
    sources = [(topics.legs, 2, 17, "record_not_decodable", "not a framed entry record"),
               (topics.catalog, 0, 999, "record_not_valid", "min_available is above max")]
    writer = kafka_ledger.client()
    for topic, partition, offset, rule, error in sources:
        writer.send_raw(topics.dead_letters, b"k", codec().encode("dead_letter", {
            "topic": topic, "partition": partition, "offset": offset, "key": b"k",
            "value": garbled, "error": error, "failed_at": datetime.now(UTC), "code": rule},
            version=2), 0)
    writer.flush()

    code, report = _audit(kafka_ledger)
    assert (code, report["violations"]) == (0, [])
    assert [(q["source"], q["code"], q["error"]) for q in report["quarantined"]] == [
        (f"{topic}[{partition}]@{offset}", rule, error)
        for topic, partition, offset, rule, error in sources]
    assert "docs/streams.md" in report["quarantineHint"]

    text = _run_audit(kafka_ledger)
    assert text.returncode == 0
    lines = text.stdout.splitlines()
    assert any(line.startswith("no violations") for line in lines)
    [header] = [line for line in lines if line.startswith("QUARANTINED:")]
    assert "docs/streams.md" in header
    assert [line.split()[1:4] for line in lines if line.startswith("QUARANTINED ")] == [
        [rule, "at", f"{topic}[{partition}]@{offset}:"]
        for topic, partition, offset, rule, _error in sources]


def _dead_letters(ledger: KafkaLedger, count: int, timeout_s: float = 120.0) -> list[Any]:
    """Wait until the dead-letters topic holds ``count`` records; return them."""
    deadline = time.monotonic() + timeout_s
    while True:
        letters = ledger.read(ledger.topics.dead_letters)
        if len(letters) >= count:
            return letters
        assert time.monotonic() < deadline, f"{len(letters)} of {count} dead letters"
        time.sleep(0.2)


def test_what_the_processor_quarantined_is_listed_not_reported(
    kafka_ledger: KafkaLedger,
) -> None:
    """Random bytes on the legs and catalog topics, and a well-formed leg on a partition
    that does not own its account: the processor quarantines each, and the audit lists
    them (once each, by source) as quarantined, with no violation."""
    processor = kafka_ledger.add_processor()
    client = kafka_ledger.client()
    [customer] = open_bank(client, customers=1).customers
    topics = kafka_ledger.topics
    noise = random.Random(11)
    garbage_leg, garbage_catalog = noise.randbytes(300), noise.randbytes(300)
    now = datetime.now(UTC)
    misrouted = codec().encode("entry", mapping.entry_record(Entry(
        entry_id=uuid.uuid4(), transaction_id=uuid.uuid4(), journal_id=uuid.uuid4(),
        account_id=customer.account_id, sequence=1, units=Decimal("1000.00"), currency="USD",
        direction=Direction.CREDIT, entry_type="FORGED_CR", layer=Layer.SETTLED,
        effective=now.date(), created=now)))
    wrong = (owner_partition(customer.account_id, topics.partitions) + 1) % topics.partitions
    client.send_raw(topics.legs, b"poison", garbage_leg, 1)
    client.send_raw(topics.catalog, b"poison", garbage_catalog, 0)
    client.send_raw(topics.legs, account_key(customer.account_id), misrouted, wrong)
    client.flush()
    _dead_letters(kafka_ledger, 3)
    assert _post(client, "DEPOSIT", customer, "3.00").status == "POSTED"
    client.wait_converged(60)
    processor.stop()

    code, report = _audit(kafka_ledger)
    assert (code, report["violations"]) == (0, [])
    assert sorted((q["source"], q["code"]) for q in report["quarantined"]) == sorted([
        (_position_of(kafka_ledger, topics.legs, garbage_leg), "record_not_decodable"),
        (_position_of(kafka_ledger, topics.catalog, garbage_catalog), "record_not_decodable"),
        (_position_of(kafka_ledger, topics.legs, misrouted), "leg_account_not_owned"),
    ])


def test_a_forged_attachment_is_caught_with_the_spending_it_allowed(
    kafka_ledger: KafkaLedger,
) -> None:
    """A velocity control allows 10.00 of spending; a forged catalog record of its
    attachment raises the amount, and the processor lets 100.00 through. The audit resolves
    the control from the APPLIED history and reports the bound that did not hold."""
    processor = kafka_ledger.add_processor()
    client = kafka_ledger.client()
    open_bank(client, customers=1)
    spender = Account(account_id=uuid.uuid4(), code=f"S.{uuid.uuid4().hex[:6]}", name="s")
    assert client.create(spender).status == "APPLIED"
    limit_id, control_id = uuid.uuid4(), uuid.uuid4()
    assert client.catalog(CatalogKind.CREATE_VELOCITY_LIMIT, {
        "velocityLimitId": str(limit_id), "name": "spending",
        "params": [{"name": "amount", "type": "DECIMAL"}],
        "balance": [{"layer": "SETTLED", "amount": "params.amount",
                     "normalBalanceType": "DEBIT"}]}).status == "APPLIED"
    assert client.catalog(CatalogKind.CREATE_VELOCITY_CONTROL, {
        "velocityControlId": str(control_id), "name": "spending",
        "velocityLimitIds": [str(limit_id)]}).status == "APPLIED"
    attached = client.catalog(CatalogKind.ATTACH_VELOCITY_CONTROL, {
        "velocityControlId": str(control_id), "accountId": str(spender.account_id),
        "params": {"amount": "10.00"}})
    assert attached.status == "APPLIED"
    assert _post(client, "WITHDRAW", spender, "5.00").status == "POSTED"
    assert _post(client, "WITHDRAW", spender, "50.00").code == "velocity_limit_exceeded"

    genuine = ControlAttachment.model_validate(attached.entity)
    forged = genuine.model_copy(update={"params": {"amount": "5000.00"}})
    client.send_raw(kafka_ledger.topics.catalog, codec().encode("catalog_key", catalog_key(
        forged)), codec().encode("catalog_record", {
            "entity": catalog_value(forged), "command_id": attached.command_id,
            "written_at": datetime.now(UTC)}), 0)
    client.flush()
    extra = Account(account_id=uuid.uuid4(), code=f"X.{uuid.uuid4().hex[:6]}", name="x")
    assert client.create(extra).status == "APPLIED"
    allowed = _post(client, "WITHDRAW", spender, "100.00")
    assert allowed.status == "POSTED", "the forged attachment did not take effect"
    client.wait_converged(60)
    processor.stop()

    code, report = _audit(kafka_ledger)
    assert code == 1
    assert _rules(report) == ["catalog_record_must_match_its_result", "limit_must_hold"]
    crossed = next(v for v in report["violations"] if v["rule"] == "limit_must_hold")
    assert crossed["ids"]["transaction_id"] == allowed.transaction_id
    assert crossed["ids"]["account_id"] == str(spender.account_id)
    assert "to -105.00 USD" in crossed["message"]
