"""The Parquet sink's metrics and readiness, scraped over HTTP from a ``ledger sink parquet
run`` process: every record of each topic counted once it is written."""

import random
from pathlib import Path

import pytest

from tests.parquet_sink.conftest import open_tutorial, parquet_sink, post_ach
from tests.scrape import Endpoint, free_port
from tests.sink_process import SinkProcess
from tests.streams.conftest import KafkaLedger

pytestmark = pytest.mark.kafka


def test_written_records_and_files_move_the_sinks_metrics(
        kafka_ledger: KafkaLedger, tmp_path: Path, sinks: list[SinkProcess]) -> None:
    """Twenty postings: the records written per topic equal the topics' records, files were
    made visible, nothing was quarantined, and /readyz answers 200 once assigned."""
    client = open_tutorial(kafka_ledger)
    post_ach(client, 20, random.Random(3))
    client.wait_converged()
    port = free_port()
    sink = parquet_sink(kafka_ledger, tmp_path / "warehouse", "--roll-seconds", "0.2",
                        "--metrics-port", str(port)).start()
    sinks.append(sink)
    endpoint = Endpoint(f"http://127.0.0.1:{port}")
    assert endpoint.readiness_seen()[-1] == 200, sink.log_since_start()
    topics = kafka_ledger.topics
    expected = {topic: len(kafka_ledger.read(topic))
                for topic in (topics.entries, topics.transactions, topics.balances)}
    assert expected[topics.entries] == 40
    scrape = endpoint.until(lambda s: all(
        s.value("ledger_parquet_records_written_total", topic=topic) >= count
        for topic, count in expected.items()))
    for topic, count in expected.items():
        assert scrape.value("ledger_parquet_records_written_total", topic=topic) == count
        assert scrape.value("ledger_parquet_records_quarantined_total", topic=topic) == 0
    assert scrape.value("ledger_parquet_files_written_total", entity="entries") >= 1
    assert scrape.value("ledger_parquet_flush_seconds_count") >= 3
