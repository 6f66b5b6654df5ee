"""Reading a topic's committed records up to the end it had when reading began."""

import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from confluent_kafka import Consumer, TopicPartition

from streams.offsets import end_offset


def read_committed(bootstrap: str, topic: str, partitions: Iterable[int],
                   on_batch: Callable[[int], None] | None = None) -> Iterator[Any]:
    """Yield every committed record of the partitions, one partition after another.

    Each partition is read to its last stable offset as of when its reading starts, so the
    iteration ends even while producers keep writing. ``on_batch`` hears each batch's size.
    """
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"read-{uuid.uuid4()}",
                         "isolation.level": "read_committed", "enable.auto.commit": False,
                         "fetch.max.bytes": 64 * 1024 * 1024})
    try:
        for partition in partitions:
            end = end_offset(consumer, topic, partition)
            if end == 0:
                continue
            tp = TopicPartition(topic, partition, 0)
            consumer.assign([tp])
            while consumer.position([tp])[0].offset < end:
                batch = [m for m in consumer.consume(10_000, timeout=0.5) if m.error() is None]
                if on_batch is not None:
                    on_batch(len(batch))
                yield from batch
    finally:
        consumer.close()
