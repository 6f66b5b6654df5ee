"""What Kafka holds right now: partition ends, and how far the processors have applied legs.

Both answers come from the admin API in one request per broker, as asyncio-friendly futures.
Ends are read ``read_uncommitted`` (the high watermark): a record of a committed posting
is below the high watermark as soon as its result is visible, whether or not the commit
marker has reached that partition yet, so a read that waits until the read model passes
these ends sees every posting acknowledged before the ends were taken.
"""

from __future__ import annotations

import asyncio
import time
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

__all__ = ["SharedEnds", "Watermarks"]

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


class SharedEnds:
    """Ends of the read model's partitions, fetched one request at a time and shared.

    A read needs ends fetched after a moment: its request's start, or its latest write. A
    fetch sent after that moment covers every record acknowledged before it, so all the
    reads that arrive while one fetch is in flight share the next one. Under load one admin
    request serves many reads, and a read waits at most for the fetch in flight and the one
    after it. Moments are ``time.monotonic()`` values; one event loop uses an instance.
    """

    def __init__(self, watermarks: Watermarks, parts: list[Part]) -> None:
        self._watermarks = watermarks
        self._parts = parts
        self._inflight: tuple[float, asyncio.Future[dict[Part, int]]] | None = None
        self._queued: asyncio.Future[dict[Part, int]] | None = None

    async def since(self, moment: float) -> dict[Part, int]:
        """Ends fetched from Kafka after ``moment``."""
        inflight = self._inflight
        if inflight is not None and inflight[0] >= moment:
            return await asyncio.shield(inflight[1])
        if inflight is None or inflight[1].done():
            return await asyncio.shield(self._start())
        if self._queued is None:
            self._queued = asyncio.get_running_loop().create_future()
            inflight[1].add_done_callback(lambda _done: self._start_queued())
        return await asyncio.shield(self._queued)

    def _start(self) -> asyncio.Future[dict[Part, int]]:
        started = time.monotonic()
        fetch = asyncio.ensure_future(self._watermarks.ends(self._parts))
        self._inflight = (started, fetch)
        return fetch

    def _start_queued(self) -> None:
        queued, self._queued = self._queued, None
        assert queued is not None
        fetch = self._start()

        def settle(done: asyncio.Future[dict[Part, int]]) -> None:
            if queued.done():
                return
            error = done.exception()
            if error is not None:
                queued.set_exception(error)
            else:
                queued.set_result(done.result())

        fetch.add_done_callback(settle)
