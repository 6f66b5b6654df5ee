"""What Kafka holds right now: partition ends, and how far the processors have applied legs.

Both answers come from the admin API in one request per broker, as asyncio-friendly futures.
Ends are read ``read_uncommitted`` (the high watermark): a record of a committed posting
is below the high watermark as soon as its result is visible, whether or not the commit
marker has reached that partition yet, so a read that waits until the read model passes
these ends sees every posting acknowledged before the ends were taken.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from concurrent.futures import Future
from typing import Any

from confluent_kafka import (
    ConsumerGroupTopicPartitions,
    IsolationLevel,
    KafkaException,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient, OffsetSpec  # type: ignore[attr-defined]

from connectors.graphql_api.errors import KafkaUnavailableError
from connectors.graphql_api.read_model import Part
from streams.topics import Topics

__all__ = ["Watermarks"]

REQUEST_TIMEOUT_S = 10.0


class Watermarks:
    """Asks Kafka for partition ends and for the processors' committed legs offsets."""

    def __init__(self, bootstrap: str, topics: Topics) -> None:
        self._admin = AdminClient({"bootstrap.servers": bootstrap,
                                   "client.id": "ledger-api-watermarks"})
        self._topics = topics
        # The consumer group every processor of the ledger joins (ProcessorConfig.group_id).
        self._processor_group = f"{topics.prefix}.processor"

    async def ends(self, parts: Iterable[Part]) -> dict[Part, int]:
        """The high watermark of every partition."""
        futures = self._list_ends(parts)
        try:
            results: list[Any] = await asyncio.gather(
                *(asyncio.wrap_future(future) for future in futures.values()))
        except KafkaException as exc:
            raise KafkaUnavailableError(f"cannot read partition ends from Kafka: {exc}") from exc
        return {(tp.topic, tp.partition): int(result.offset)
                for tp, result in zip(futures, results, strict=True)}

    def ends_blocking(self, parts: Iterable[Part]) -> dict[Part, int]:
        """The high watermark of every partition, waiting in the calling thread."""
        futures = self._list_ends(parts)
        return {(tp.topic, tp.partition): int(future.result(REQUEST_TIMEOUT_S).offset)
                for tp, future in futures.items()}

    def _list_ends(self, parts: Iterable[Part]) -> dict[TopicPartition, Future[Any]]:
        latest = OffsetSpec.latest()  # type: ignore[no-untyped-call]
        request = {TopicPartition(topic, p): latest for topic, p in parts}
        try:
            futures: dict[TopicPartition, Future[Any]] = self._admin.list_offsets(
                request, isolation_level=IsolationLevel.READ_UNCOMMITTED,
                request_timeout=REQUEST_TIMEOUT_S)
        except KafkaException as exc:
            raise KafkaUnavailableError(f"cannot read partition ends from Kafka: {exc}") from exc
        return futures

    async def legs_applied(self, partitions: Iterable[int]) -> dict[int, int]:
        """The processors' committed offset on each legs partition (-1: nothing yet)."""
        request = ConsumerGroupTopicPartitions(
            self._processor_group,
            [TopicPartition(self._topics.legs, p) for p in sorted(set(partitions))])
        try:
            futures = self._admin.list_consumer_group_offsets(
                [request], request_timeout=REQUEST_TIMEOUT_S)
            answer = await asyncio.wrap_future(futures[self._processor_group])
        except KafkaException as exc:
            raise KafkaUnavailableError(f"cannot read the processors' offsets: {exc}") from exc
        return {tp.partition: max(int(tp.offset), -1) for tp in answer.topic_partitions}

    def close(self) -> None:
        """Release the admin client: librdkafka frees a handle only once it is collected."""
        del self._admin
