"""A Kafka producer whose writes can be awaited: the sink marks an event done only once its
dead letter (or a subscription's new status) is acknowledged by the brokers."""

import asyncio
from typing import Any

from confluent_kafka import KafkaError, Producer

from streams.errors import LedgerError
from streams.kafka_config import kafka_config

POLL_INTERVAL_S = 0.01


class AsyncProducer:
    """Produces from the event loop; delivery callbacks resolve futures on the loop."""

    def __init__(self, bootstrap: str) -> None:
        self._producer = Producer(kafka_config(bootstrap, {
            "enable.idempotence": True, "acks": "all", "linger.ms": 5,
        }))
        self._poller: asyncio.Task[None] | None = None

    async def produce(self, topic: str, key: bytes, value: bytes) -> None:
        """Write one record to partition 0 and wait until it is acknowledged.

        librdkafka retries a failed write by itself until ``delivery.timeout.ms``; a record
        that still fails raises LedgerError, and the caller keeps its event undone."""
        if self._poller is None:
            self._poller = asyncio.create_task(self._poll())
        loop = asyncio.get_running_loop()
        acknowledged: asyncio.Future[None] = loop.create_future()

        def delivered(error: KafkaError | None, _message: Any) -> None:
            if acknowledged.done():
                return
            if error is None:
                acknowledged.set_result(None)
            else:
                acknowledged.set_exception(LedgerError(f"could not write to {topic}: {error}"))

        while True:
            try:
                self._producer.produce(topic, value, key, partition=0, on_delivery=delivered)
                break
            except BufferError:
                await asyncio.sleep(POLL_INTERVAL_S)
        await acknowledged

    async def _poll(self) -> None:
        # Delivery callbacks run inside poll(), here on the loop's thread.
        while True:
            self._producer.poll(0)
            await asyncio.sleep(POLL_INTERVAL_S)

    async def close(self) -> None:
        """Wait for what is in flight (at most 10 s) and stop polling."""
        if self._poller is not None:
            self._poller.cancel()
            self._poller = None
        await asyncio.to_thread(self._producer.flush, 10)
