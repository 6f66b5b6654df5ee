"""The processor's metrics, liveness and readiness, scraped over HTTP from real processor
processes on the real broker: each metric moves by what the ledger did."""

import json
import os
import shutil
import uuid

from ledger_core import tutorial
from streams.partitioning import account_key, owner_partition
from tests.scrape import Endpoint, Scrape, free_port
from tests.streams.conftest import KafkaLedger

PROCESSED = "ledger_processor_records_processed_total"
POSTINGS = "ledger_postings_total"
DEAD_LETTERS = "ledger_dead_letters_total"
RESTORED = "ledger_processor_restore_records_total"
REMAINING = "ledger_processor_restore_remaining_records"
LAG = "ledger_processor_records_lag"
ERNIE = tutorial.ERNIE.account_id


def _observed(ledger: KafkaLedger, instance_id: str = "p1", **options: str) -> Endpoint:
    port = free_port()
    ledger.add_processor(instance_id, metrics_port=str(port), **options)
    return Endpoint(f"http://127.0.0.1:{port}")


def _install_tutorial(ledger: KafkaLedger) -> None:
    client = ledger.client()
    for entity in (tutorial.JOURNAL, *tutorial.ACCOUNTS, *tutorial.TRAN_CODES):
        assert client.create(entity).status == "APPLIED"


def _deposit(ledger: KafkaLedger, amount: str = "1.00") -> None:
    result = ledger.client().post(uuid.uuid4(), "ACH_CREDIT",
                                  {"account": str(ERNIE), "amount": amount,
                                   "effective": "2026-12-01"}, owner=ERNIE)
    assert result.status == "POSTED", result


def test_the_tutorial_leaves_every_counter_at_its_expected_value(
        kafka_ledger: KafkaLedger) -> None:
    """After the tutorial (a journal, three accounts, two tran codes, a deposit and a
    withdrawal) one scrape shows what the processor did, record for record."""
    endpoint = _observed(kafka_ledger)
    client = kafka_ledger.client()
    _install_tutorial(kafka_ledger)
    for posting in tutorial.POSTINGS:
        result = client.post(posting.transaction_id, posting.tran_code, posting.params,
                             owner=ERNIE)
        assert result.status == "POSTED", result
    client.wait_converged()
    topics = kafka_ledger.topics
    legs = len(kafka_ledger.read(topics.legs))
    catalog = 1 + len(tutorial.ACCOUNTS) + len(tutorial.TRAN_CODES)
    expected = {topics.commands: 2.0, topics.catalog_commands: float(catalog),
                topics.legs: float(legs)}

    lag_series = 3 * topics.partitions + 1

    def settled(scrape: Scrape) -> bool:
        lags = scrape.series(LAG)
        return {topic: scrape.value(PROCESSED, topic=topic) for topic in expected} == expected \
            and len(lags) == lag_series and not any(lags.values())

    scrape = endpoint.until(settled)
    assert {topic: scrape.value(PROCESSED, topic=topic) for topic in expected} == expected
    assert scrape.value(PROCESSED, topic=topics.id_claims) == 0
    assert scrape.series(POSTINGS) == {frozenset({("status", "POSTED"), ("code", "")}): 2.0}
    assert scrape.series(DEAD_LETTERS) == {}
    # One series per assigned input partition: commands, legs and id-claims (4 each) and
    # catalog-commands' one, all caught up.
    lags = scrape.series(LAG)
    assert len(lags) == lag_series and set(lags.values()) == {0.0}
    assert scrape.value("ledger_processor_assigned_partitions") == topics.partitions
    batches = scrape.value("ledger_processor_batch_records_count")
    assert batches >= 1
    assert scrape.value("ledger_processor_batch_records_sum") == sum(expected.values())
    assert scrape.value("ledger_processor_commit_latency_seconds_count") >= batches
    assert scrape.value("ledger_processor_batches_aborted_total") == 0
    # A fresh ledger restores nothing, and says so per changelog partition.
    assert scrape.total(RESTORED) == 0
    assert len(scrape.series(REMAINING)) == 3 * topics.partitions
    assert set(scrape.series(REMAINING).values()) == {0.0}
    assert scrape.value("process_resident_memory_bytes") > 0
    assert endpoint.status("/healthz") == 200
    assert endpoint.ready() == (200, {"status": "ready"})


def test_postings_and_rejections_count_by_status_and_code(kafka_ledger: KafkaLedger) -> None:
    """Each posting moves processed and postings{POSTED} by one; a rejection moves
    postings{REJECTED, its code}, and nothing else of postings."""
    endpoint = _observed(kafka_ledger)
    _install_tutorial(kafka_ledger)
    commands = kafka_ledger.topics.commands
    before = endpoint.scrape()
    assert before.value(PROCESSED, topic=commands) == 0
    for _ in range(3):
        _deposit(kafka_ledger)
    scrape = endpoint.until(lambda s: s.value(POSTINGS, status="POSTED", code="") >= 3)
    assert scrape.value(POSTINGS, status="POSTED", code="") == 3
    assert scrape.value(PROCESSED, topic=commands) == 3

    client = kafka_ledger.client()
    refused = client.post(uuid.uuid4(), "NO_SUCH_CODE", {"account": str(ERNIE)}, owner=ERNIE)
    assert refused.code == "tran_code_not_found"
    malformed = client.post(uuid.uuid4(), "ACH_CREDIT",
                            {"account": str(ERNIE), "amount": "nine", "effective": "2026-12-01"},
                            owner=ERNIE)
    assert malformed.status == "REJECTED" and malformed.code != refused.code, malformed
    codes = {refused.code, malformed.code}
    scrape = endpoint.until(lambda s: s.value(PROCESSED, topic=commands) >= 5)
    assert scrape.value(PROCESSED, topic=commands) == 5
    rejected = {dict(labels)["code"]: value for labels, value in scrape.series(POSTINGS).items()
                if dict(labels)["status"] == "REJECTED"}
    assert sum(rejected.values()) == 2 and set(rejected) == codes
    assert scrape.value(POSTINGS, status="POSTED", code="") == 3
    assert scrape.series(DEAD_LETTERS) == {}


def test_poison_input_counts_dead_letters_by_code(kafka_ledger: KafkaLedger) -> None:
    """Random bytes as a command and as a leg are one dead letter each, coded
    record_not_decodable; the postings counters do not move. The processor logs JSON, and
    the quarantined leg's line names where it was."""
    endpoint = _observed(kafka_ledger, log_format="json")
    _install_tutorial(kafka_ledger)
    _deposit(kafka_ledger)
    client = kafka_ledger.client()
    topics = kafka_ledger.topics
    partition = owner_partition(ERNIE, topics.partitions)
    client.send_raw(topics.commands, account_key(ERNIE), os.urandom(256), partition)
    client.send_raw(topics.legs, account_key(ERNIE), os.urandom(256), partition)
    client.flush()
    _deposit(kafka_ledger)
    scrape = endpoint.until(lambda s: s.total(DEAD_LETTERS) >= 2
                            and s.value(POSTINGS, status="POSTED", code="") >= 2)
    assert scrape.series(DEAD_LETTERS) == {frozenset({("code", "record_not_decodable")}): 2.0}
    assert scrape.series(POSTINGS) == {frozenset({("status", "POSTED"), ("code", "")}): 2.0}
    assert len(kafka_ledger.read(topics.dead_letters)) == 2
    # librdkafka writes its own lines (``%4|...``) to stderr past Python's logging.
    lines = [json.loads(line) for line in kafka_ledger.processors[0].log_since_start()
             .splitlines() if line and not line.startswith("%")]
    assert {"timestamp", "level", "logger", "message"} <= set(lines[0])
    [quarantined] = [line for line in lines if line["logger"] == "streams.routing"
                     and "quarantined" in line["message"]]
    assert quarantined["level"] == "WARNING"
    assert (quarantined["topic"], quarantined["partition"], quarantined["code"]) == \
        (topics.legs, partition, "record_not_decodable")
    assert isinstance(quarantined["offset"], int)


def test_a_killed_processor_restores_and_is_ready_only_after(kafka_ledger: KafkaLedger) -> None:
    """SIGKILL, an empty state directory, a restart on the same port: /readyz answers 503
    until the state is restored, then 200, and the restore counters add up to every
    changelog record; a second processor joining sends the first through a rebalance."""
    port = free_port()
    processor = kafka_ledger.add_processor("p1", metrics_port=str(port))
    endpoint = Endpoint(f"http://127.0.0.1:{port}")
    _install_tutorial(kafka_ledger)
    for _ in range(20):
        _deposit(kafka_ledger)
    kafka_ledger.client().wait_converged()
    topics = kafka_ledger.topics
    changelogs = {topic: len(kafka_ledger.read(topic))
                  for topic in (topics.balances, topics.transactions, topics.transaction_ids)}
    assert all(changelogs.values())

    processor.kill()
    assert endpoint.status("/healthz") is None
    shutil.rmtree(processor.state_dir)
    processor.start(wait=False)
    seen = endpoint.readiness_seen()
    assert seen[-1] == 200, seen
    assert 503 in seen and seen.index(503) < seen.index(200), seen
    assert "not ready (partitions): restoring the state of partitions" in \
        processor.log_since_start()
    assert endpoint.status("/healthz") == 200

    scrape = endpoint.scrape()
    assert {topic: scrape.total(RESTORED, topic=topic) for topic in changelogs} == \
        {topic: float(count) for topic, count in changelogs.items()}
    assert set(scrape.series(REMAINING).values()) == {0.0}
    assert scrape.value("ledger_processor_rebalances_total") >= 1
    rebalances = scrape.value("ledger_processor_rebalances_total")

    second = kafka_ledger.add_processor("p2")
    second.wait_assigned()
    scrape = endpoint.until(lambda s: s.value("ledger_processor_rebalances_total") > rebalances
                            and s.value("ledger_processor_assigned_partitions")
                            < topics.partitions)
    assert scrape.value("ledger_processor_rebalances_total") > rebalances
    assert scrape.value("ledger_processor_assigned_partitions") < topics.partitions
    assert "not ready (partitions): rebalancing" in processor.log_since_start()
    assert endpoint.readiness_seen()[-1] == 200
