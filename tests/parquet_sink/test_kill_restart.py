"""The sink SIGKILLed again and again while the ledger posts: every entry once, exactly."""

import itertools
import random
import threading
import time
from pathlib import Path

import pytest

from connectors.parquet_sink import Warehouse
from connectors.parquet_sink.store import Store
from tests.parquet_sink.conftest import open_tutorial, parquet_sink, post_ach
from tests.sink_process import SinkProcess
from tests.streams.conftest import KafkaLedger

KILLS = 6


@pytest.mark.kafka
def test_a_sink_killed_at_random_instants_writes_every_entry_exactly_once(
        kafka_ledger: KafkaLedger, tmp_path: Path, sinks: list[SinkProcess]) -> None:
    """Six SIGKILLs while postings keep coming, then a run to the end: DuckDB counts exactly the
    entries of the topic, no entry id twice, and every account's sums are its balance."""
    client = open_tutorial(kafka_ledger)
    out = tmp_path / "warehouse"
    rng = random.Random(7)
    posted: list[object] = []
    failure: list[BaseException] = []

    kills_done = threading.Event()

    def workload() -> None:
        # Postings keep coming for as long as the sink is being killed.
        try:
            while not kills_done.is_set() or len(posted) < 300:
                posted.extend(post_ach(client, 10, rng, chunk=10))
                time.sleep(0.05)
        except BaseException as exc:
            failure.append(exc)

    sender = threading.Thread(target=workload)
    sender.start()
    # Small files and short rolls: the kills land in the middle of writing and renaming.
    rolling = ("--roll-records", "30", "--roll-seconds", "0.2")
    for _ in range(KILLS):
        sink = parquet_sink(kafka_ledger, out, *rolling).start()
        sinks.append(sink)
        sink.wait_for_log("assigned ")
        time.sleep(rng.uniform(0.2, 2.5))
        sink.kill()
    kills_done.set()
    sender.join(300)
    assert not failure, failure
    client.wait_converged()

    final = parquet_sink(kafka_ledger, out, *rolling, "--until-end").start()
    sinks.append(final)
    status = final.wait()
    assert status == 0, (status, final.log.read_text()[-3000:])

    entries = kafka_ledger.entries()
    assert len(entries) == 2 * len(posted)
    warehouse = Warehouse(str(out))
    [(rows, distinct)] = warehouse.connection.sql(
        "SELECT count(*), count(DISTINCT entry_id) FROM entries").fetchall()
    assert (rows, distinct) == (len(entries), len(entries))
    ids = {row[0] for row in warehouse.connection.sql("SELECT entry_id FROM entries").fetchall()}
    assert ids == {str(e.entry_id) for e in entries}

    sums = {(a, j, c): (dr, cr) for a, j, c, dr, cr in warehouse.connection.sql(
        "SELECT account_id, journal_id, currency, "
        "sum(units) FILTER (WHERE direction = 'DEBIT'), "
        "sum(units) FILTER (WHERE direction = 'CREDIT') "
        "FROM entries WHERE layer = 'SETTLED' GROUP BY ALL").fetchall()}
    cdc = kafka_ledger.cdc_balances()
    assert sums == {(str(a), str(j), c): (b.settled.dr, b.settled.cr)
                    for (a, j, c), b in cdc.items()}
    current = {(a, j, c): (version, normal) for a, j, c, version, normal in
               warehouse.connection.sql("SELECT account_id, journal_id, currency, version, "
                                        "settled_normal_balance FROM balances").fetchall()}
    assert current == {(str(a), str(j), c): (b.version, b.settled.normal_balance)
                       for (a, j, c), b in cdc.items()}
    [(versions, distinct_versions)] = warehouse.connection.sql(
        "SELECT count(*), count(DISTINCT (account_id, journal_id, currency, version)) "
        "FROM balance_history").fetchall()
    assert versions == distinct_versions
    [(transactions,)] = warehouse.connection.sql(
        "SELECT count(DISTINCT transaction_id) FROM transactions").fetchall()
    assert transactions == len(posted)

    # No flush twice: the offset ranges of each partition never overlap.
    flushes = sorted({f.flush for f in Store(str(out)).files()})
    for before, after in itertools.pairwise(flushes):
        if (before.topic, before.partition) == (after.topic, after.partition):
            assert before.end < after.start, (before, after)
    assert not [p for p in (out / "_tmp").rglob("*.parquet")]
