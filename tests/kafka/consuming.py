"""Reading a whole topic back, for assertions in Kafka tests."""

import time
import uuid

from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient


def read_all(bootstrap: str, topic: str, isolation: str = "read_committed",
             timeout_s: float = 60.0) -> list[bytes]:
    """Every record value of ``topic`` up to its current end, as ``isolation`` allows."""
    partitions = AdminClient({"bootstrap.servers": bootstrap}).list_topics(
        topic, timeout=10).topics[topic].partitions
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"read-{uuid.uuid4()}",
                         "isolation.level": isolation, "enable.auto.commit": False,
                         "auto.offset.reset": "earliest"})
    ends = {}
    for p in partitions:
        _low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
        ends[p] = high
    consumer.assign([TopicPartition(topic, p, 0) for p in partitions])
    values: list[bytes] = []
    deadline = time.monotonic() + timeout_s
    try:
        while any(_position(consumer, topic, p) < end for p, end in ends.items()):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{topic} was not read to its end in {timeout_s}s")
            for message in consumer.consume(500, timeout=0.5):
                if message.error() is None:
                    values.append(message.value())
    finally:
        consumer.close()
    return values


def _position(consumer: Consumer, topic: str, partition: int) -> int:
    offset = consumer.position([TopicPartition(topic, partition)])[0].offset
    return offset if offset >= 0 else 0
