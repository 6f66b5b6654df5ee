"""What Kafka holds right now: the ends of partitions.

Ends are high watermarks (``read_uncommitted``): a record of a committed posting is below
the high watermark as soon as its result is visible, whether or not the commit marker has
reached that partition yet, so a read that waits until the read model passes these ends sees
every posting acknowledged before the ends were taken. They are asked with a consumer's
``offsets_for_times`` at the LATEST timestamp: one ListOffsets request per broker, against
cached metadata, in about half a millisecond, on a thread of its own.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

from confluent_kafka import OFFSET_END, Consumer, KafkaException, TopicPartition

from connectors.graphql_api.errors import KafkaUnavailableError
from connectors.graphql_api.read_model import Part
from streams.kafka_config import kafka_config

__all__ = ["SharedEnds", "Watermarks"]

REQUEST_TIMEOUT_S = 10.0


class Watermarks:
    """Asks Kafka for partition ends."""

    def __init__(self, bootstrap: str) -> None:
        self._ends = Consumer(kafka_config(bootstrap, {"client.id": "ledger-api-ends",
                                                       "group.id": f"api-ends-{uuid.uuid4()}",
                                                       "isolation.level": "read_uncommitted",
                                                       "enable.auto.commit": False}))
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="api-ends")

    async def ends(self, parts: Iterable[Part]) -> dict[Part, int]:
        """The high watermark of every partition."""
        asked = list(parts)
        return await asyncio.get_running_loop().run_in_executor(self._thread,
                                                                 self.ends_blocking, asked)

    def ends_blocking(self, parts: Iterable[Part]) -> dict[Part, int]:
        """The high watermark of every partition, waiting in the calling thread."""
        asked = [TopicPartition(topic, p, OFFSET_END) for topic, p in parts]
        try:
            answers = self._ends.offsets_for_times(asked, timeout=REQUEST_TIMEOUT_S)
        except KafkaException as exc:
            raise KafkaUnavailableError(f"cannot read partition ends from Kafka: {exc}") from exc
        failed = [tp for tp in answers if tp.error is not None or tp.offset < 0]
        if failed:
            raise KafkaUnavailableError(f"cannot read the end of {failed[0].topic}"
                                        f"[{failed[0].partition}]: {failed[0].error}")
        return {(tp.topic, tp.partition): int(tp.offset) for tp in answers}

    def close(self) -> None:
        """Release the Kafka clients (librdkafka frees a handle only once it is collected)."""
        self._thread.shutdown(wait=True)
        self._ends.close()


class SharedEnds:
    """Ends of the read model's partitions, fetched one request at a time and shared.

    A read needs ends fetched after a moment: its request's start, or its latest write. A
    fetch sent after that moment covers every record acknowledged before it, so all the
    reads that arrive while one fetch is in flight share the next one. Under load one fetch
    serves many reads, and a read waits at most for the fetch in flight and the one
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
