"""``make demo``: start the local broker, show a transactional produce and a read_committed
consume, then stop what it started (``--keep`` leaves it running; ``--stop`` stops it)."""

import argparse
import sys
import time
import uuid

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from streams.errors import LedgerError
from streams.local_kafka import LocalCluster, start_cluster
from streams.settings import local_kafka_home


def main() -> int:
    """Run the demo and return its exit status."""
    parser = argparse.ArgumentParser(prog="demo")
    parser.add_argument("--keep", action="store_true", help="leave the broker running")
    parser.add_argument("--stop", action="store_true", help="stop what an earlier --keep left")
    args = parser.parse_args()
    try:
        if args.stop:
            _stop()
        else:
            _run(keep=args.keep)
    except LedgerError as exc:
        print(f"demo: error: {exc}", file=sys.stderr)
        return 1
    return 0


def _stop() -> None:
    cluster = LocalCluster.load(local_kafka_home())
    if cluster is not None:
        cluster.stop()
    print("stopped the local broker")


def _run(keep: bool) -> None:
    home = local_kafka_home()
    was_running = (existing := LocalCluster.load(home)) is not None and bool(
        existing.running_nodes())
    cluster, seconds = start_cluster(home)
    print(f"Kafka {cluster.bootstrap_servers} ready in {seconds:.1f}s")
    try:
        _transactions(cluster.bootstrap_servers)
    finally:
        if keep or was_running:
            print(f"the broker keeps running at {cluster.bootstrap_servers}; `make stop` stops it")
        else:
            cluster.stop()
            print("stopped the local broker")


def _transactions(bootstrap: str) -> None:
    topic = f"demo-{uuid.uuid4().hex[:8]}"
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.create_topics([NewTopic(topic, 1, 1)]).values():
        future.result()
    producer = Producer({"bootstrap.servers": bootstrap, "transactional.id": f"demo-{topic}"})
    producer.init_transactions(30)
    producer.begin_transaction()
    for i in range(3):
        producer.produce(topic, value=f"committed {i}".encode())
    producer.commit_transaction(30)
    print("committed a transaction of 3 records")
    producer.begin_transaction()
    for i in range(3):
        producer.produce(topic, value=f"aborted {i}".encode())
    producer.flush(30)
    producer.abort_transaction(30)
    print("aborted a transaction of 3 records")
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"demo-{topic}",
                         "isolation.level": "read_committed", "auto.offset.reset": "earliest"})
    consumer.assign([TopicPartition(topic, 0, 0)])
    seen: list[str] = []
    deadline = time.monotonic() + 20
    while len(seen) < 3 and time.monotonic() < deadline:
        batch = consumer.consume(10, 0.5)
        seen += [(m.value() or b"").decode() for m in batch if m.error() is None]
    consumer.close()
    print(f"a read_committed consumer saw: {seen}")


if __name__ == "__main__":
    sys.exit(main())
