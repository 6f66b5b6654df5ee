"""Durability on the 3-node cluster: acks=all survives the loss of one broker."""

import time
from collections import Counter

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient

from streams.local_kafka import LocalCluster
from tests.conftest import topic_factory
from tests.kafka.consuming import read_all

RECORDS = 6000


def test_every_acknowledged_record_survives_a_sigkilled_broker(
    kafka_cluster3: LocalCluster,
) -> None:
    """Records acked with acks=all while the leader is SIGKILLed are all read back, once each."""
    bootstrap = kafka_cluster3.bootstrap_servers
    topic = topic_factory(bootstrap)(partitions=3, replication=3, **{"min.insync.replicas": "2"})
    leader = _leader(bootstrap, topic, 0)
    acked: list[bytes] = []
    failed: list[str] = []

    def delivered(err: object, message: object) -> None:
        if err is None:
            acked.append(message.value())  # type: ignore[attr-defined]
        else:
            failed.append(str(err))

    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all",
                         "enable.idempotence": True, "linger.ms": 5,
                         "message.timeout.ms": 60000})
    for i in range(RECORDS):
        producer.produce(topic, key=str(i).encode(), value=str(i).encode(), on_delivery=delivered)
        producer.poll(0)
        if i == RECORDS // 3:
            kafka_cluster3.kill_node(leader)
        if i == 2 * RECORDS // 3:
            kafka_cluster3.restart_node(leader)
        time.sleep(0.0005)
    assert producer.flush(90) == 0

    counts = Counter(read_all(bootstrap, topic))
    assert sorted(kafka_cluster3.running_nodes()) == [1, 2, 3]
    assert len(acked) == RECORDS, failed[:3]
    assert all(counts[value] == 1 for value in acked)
    assert set(counts.values()) == {1}


def _leader(bootstrap: str, topic: str, partition: int) -> int:
    """The partition's leader, once the metadata of the new topic has reached the broker
    that answers (a loaded 3-node cluster may answer before it has)."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    deadline = time.monotonic() + 30
    while True:
        partitions = admin.list_topics(topic, timeout=10).topics[topic].partitions
        found = partitions.get(partition)
        if found is not None and found.leader >= 0:
            return int(found.leader)
        assert time.monotonic() < deadline, f"{topic}[{partition}] has no leader after 30 s"
        time.sleep(0.2)
