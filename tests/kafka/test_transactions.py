"""Kafka transactions on the real broker: what read_committed consumers see."""

import uuid
from collections.abc import Callable

from confluent_kafka import Producer

from tests.kafka.consuming import read_all


def test_read_committed_sees_the_committed_batch_and_not_the_aborted_one(
    kafka_bootstrap: str, make_topic: Callable[..., str]
) -> None:
    """A read_committed consumer reads exactly the records of the committed transaction."""
    topic = make_topic(partitions=3)
    producer = Producer({"bootstrap.servers": kafka_bootstrap,
                         "transactional.id": f"test-{uuid.uuid4()}"})
    producer.init_transactions(30)
    producer.begin_transaction()
    for i in range(50):
        producer.produce(topic, key=str(i).encode(), value=f"committed-{i}".encode())
    producer.commit_transaction(30)
    producer.begin_transaction()
    for i in range(50):
        producer.produce(topic, key=str(i).encode(), value=f"aborted-{i}".encode())
    producer.flush(30)
    producer.abort_transaction(30)

    committed = read_all(kafka_bootstrap, topic, isolation="read_committed")
    uncommitted = read_all(kafka_bootstrap, topic, isolation="read_uncommitted")

    assert sorted(committed) == sorted(f"committed-{i}".encode() for i in range(50))
    assert sum(value.startswith(b"aborted-") for value in uncommitted) == 50


def test_a_new_producer_with_the_same_transactional_id_fences_the_old_one(
    kafka_bootstrap: str, make_topic: Callable[..., str]
) -> None:
    """Re-initialising a transactional id aborts the open transaction of its predecessor."""
    topic = make_topic()
    transactional_id = f"test-{uuid.uuid4()}"
    zombie = Producer({"bootstrap.servers": kafka_bootstrap, "transactional.id": transactional_id})
    zombie.init_transactions(30)
    zombie.begin_transaction()
    zombie.produce(topic, value=b"from-the-zombie")
    zombie.flush(30)

    successor = Producer({"bootstrap.servers": kafka_bootstrap,
                          "transactional.id": transactional_id})
    successor.init_transactions(30)
    successor.begin_transaction()
    successor.produce(topic, value=b"from-the-successor")
    successor.commit_transaction(30)

    assert read_all(kafka_bootstrap, topic, isolation="read_committed") == [b"from-the-successor"]
