"""Reading a topic's committed records up to the end it had when reading began."""

import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from confluent_kafka import Consumer, TopicPartition

from streams.kafka_config import kafka_config
from streams.offsets import end_offset


def read_committed(bootstrap: str, topic: str, partitions: Iterable[int],
                   on_batch: Callable[[int], None] | None = None) -> Iterator[Any]:
    """Yield every committed record of the partitions, each partition in log order.

    The partitions are read together (their records interleave), each to its last stable
    offset as of when reading starts, so the iteration ends even while producers keep
    writing. ``on_batch`` hears each batch's size.
    """
    consumer = Consumer(kafka_config(bootstrap, {
        "group.id": f"read-{uuid.uuid4()}", "isolation.level": "read_committed",
        "enable.auto.commit": False, "fetch.max.bytes": 64 * 1024 * 1024, "fetch.wait.max.ms": 10,
    }))
    try:
        ends = {p: end for p in partitions if (end := end_offset(consumer, topic, p)) > 0}
        if not ends:
            return
        consumer.assign([TopicPartition(topic, p, 0) for p in ends])
        pending = set(ends)
        while pending:
            batch = [m for m in consumer.consume(10_000, timeout=0.05) if m.error() is None]
            if on_batch is not None:
                on_batch(len(batch))
            yield from batch
            positions = consumer.position([TopicPartition(topic, p) for p in pending])
            pending -= {tp.partition for tp in positions if tp.offset >= ends[tp.partition]}
    finally:
        consumer.close()
