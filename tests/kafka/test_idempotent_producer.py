"""The idempotent producer on a real broker: retries never write a record twice."""

import json
import os
import signal
import threading
import time
from collections import Counter
from pathlib import Path

from confluent_kafka import Producer

from streams.local_kafka import start_cluster
from tests.conftest import topic_factory
from tests.kafka.consuming import read_all

RECORDS = 3000


def test_retries_after_request_timeouts_write_no_duplicates(tmp_path: Path) -> None:
    """Requests that time out while the broker is frozen are retried, and nothing is doubled."""
    cluster, _ = start_cluster(tmp_path / "kafka", nodes=1)
    try:
        bootstrap = cluster.bootstrap_servers
        topic = topic_factory(bootstrap)(partitions=2)
        retries: list[int] = []
        producer = Producer({
            "bootstrap.servers": bootstrap, "enable.idempotence": True, "acks": "all",
            "socket.timeout.ms": 1000, "message.timeout.ms": 120000,
            "retry.backoff.ms": 100, "linger.ms": 5, "statistics.interval.ms": 200,
            "stats_cb": lambda raw: retries.append(_retries(raw)),
        })
        failures: list[str] = []
        producer.produce(topic, value=b"warm-up")
        assert producer.flush(30) == 0
        freezer = threading.Timer(0.5, _freeze, args=(cluster.pids[1], 6.0))
        freezer.start()
        for i in range(RECORDS):
            producer.produce(topic, key=str(i % 7).encode(), value=str(i).encode(),
                             on_delivery=lambda err, _m: failures.append(str(err)) if err else None)
            producer.poll(0)
            time.sleep(0.0015)
        freezer.join()
        assert producer.flush(120) == 0
        producer.poll(0.5)

        values = read_all(bootstrap, topic)
        counts = Counter(values)
        assert failures == []
        assert max(retries, default=0) > 0, "the broker freeze caused no request timeout"
        assert len(values) == RECORDS + 1
        assert set(counts.values()) == {1}
    finally:
        cluster.stop()


def _freeze(pid: int, seconds: float) -> None:
    os.kill(pid, signal.SIGSTOP)
    time.sleep(seconds)
    os.kill(pid, signal.SIGCONT)


def _retries(raw: str) -> int:
    # librdkafka counts per connection; a timed-out request is re-sent after the reconnect.
    stats = json.loads(raw)
    return sum(broker.get("txretries", 0) + broker.get("req_timeouts", 0)
               for broker in stats.get("brokers", {}).values())
