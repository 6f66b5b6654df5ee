"""Results of the commands this API instance sends, delivered to the requests awaiting them.

One consumer reads every partition of the results topic from its end at start-up, in a
background thread, and hands each result to the request that sent its command. A result
can arrive before its request starts waiting (the command id is known only once the command
is produced), so recent unclaimed results are kept, up to ``UNCLAIMED_MAX``, and results of
other clients' commands age out of that buffer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import uuid
from collections import OrderedDict

from confluent_kafka import Consumer, Message, TopicPartition

from connectors.graphql_api.consumer_thread import ConsumerThread
from connectors.graphql_api.errors import ResultTimeoutError
from schemas.codec import DecodeError, codec
from streams.client import Result, result_from
from streams.kafka_config import kafka_config
from streams.offsets import end_offset
from streams.topics import Topics

__all__ = ["ResultWaiter"]

log = logging.getLogger(__name__)

POLL_S = 0.1
UNCLAIMED_MAX = 50_000


class ResultWaiter(ConsumerThread):
    """Routes results from the results topic to the requests waiting for them."""

    def __init__(self, bootstrap: str, topics: Topics) -> None:
        self.bootstrap = bootstrap
        self.topics = topics
        self._waiting: dict[str, tuple[asyncio.AbstractEventLoop, asyncio.Future[Result]]] = {}
        self._unclaimed: OrderedDict[str, Result] = OrderedDict()
        self._lock = threading.Lock()
        super().__init__("api-results", POLL_S, 1000)

    def start(self) -> None:
        """Start reading results from the topic's current end."""
        consumer = Consumer(kafka_config(self.bootstrap, {
            "client.id": "ledger-api-results",
            "group.id": f"api-results-{uuid.uuid4()}",
            "isolation.level": "read_committed", "enable.auto.commit": False,
            "enable.partition.eof": False,
        }))
        consumer.assign([
            TopicPartition(self.topics.results, p, end_offset(consumer, self.topics.results, p))
            for p in range(self.topics.partitions)])
        self._launch(consumer)

    def _handle(self, consumer: Consumer, messages: list[Message]) -> None:
        for message in messages:
            if message.error() is not None:
                continue
            try:
                result = result_from(codec().decode("result", message.value()),
                                     message.partition() or 0, message.offset() or 0)
            except (DecodeError, ValueError) as exc:
                log.error("results: %s[%s]@%s does not decode: %s", message.topic(),
                          message.partition(), message.offset(), exc)
                continue
            self._deliver(result)

    def _deliver(self, result: Result) -> None:
        with self._lock:
            waiting = self._waiting.pop(result.command_id, None)
            if waiting is None:
                self._unclaimed[result.command_id] = result
                while len(self._unclaimed) > UNCLAIMED_MAX:
                    self._unclaimed.popitem(last=False)
                return
        loop, future = waiting

        def resolve() -> None:
            if not future.done():
                future.set_result(result)

        # A closed event loop raises RuntimeError: its request is gone, nobody is waiting.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(resolve)

    async def wait(self, command_id: str, timeout_s: float) -> Result:
        """The result of the command; ResultTimeoutError if it does not arrive in time."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Result] = loop.create_future()
        with self._lock:
            arrived = self._unclaimed.pop(command_id, None)
            if arrived is not None:
                return arrived
            self._waiting[command_id] = (loop, future)
        try:
            return await asyncio.wait_for(future, timeout_s)
        except TimeoutError:
            with self._lock:
                self._waiting.pop(command_id, None)
            raise ResultTimeoutError(
                f"no result for command {command_id} within {timeout_s:g}s. The command is not "
                "lost: it is in Kafka and will be decided; re-sending it with the same "
                "transactionId is safe") from None
