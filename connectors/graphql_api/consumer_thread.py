"""A consumer polled in a background thread: the API's read model and its result router."""

from __future__ import annotations

import logging
import threading

from confluent_kafka import Consumer, KafkaException, Message

__all__ = ["ConsumerThread"]

log = logging.getLogger(__name__)


class ConsumerThread:
    """Polls a consumer in a daemon thread and hands each batch to ``_handle``.

    ``poll`` waits up to ``poll_s`` for the first record, then ``consume(batch_max, 0)``
    takes whatever else has already arrived, so a batch costs no extra wait. Kafka errors
    are logged and retried; the thread ends on ``stop``.
    """

    def __init__(self, name: str, poll_s: float, batch_max: int) -> None:
        self._name = name
        self._poll_s = poll_s
        self._batch_max = batch_max
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._consumer: Consumer | None = None

    def _launch(self, consumer: Consumer) -> None:
        self._consumer = consumer
        self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop polling and close the consumer."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        if self._consumer is not None:
            self._consumer.close()
            self._consumer = None

    def _run(self) -> None:
        consumer = self._consumer
        assert consumer is not None
        while not self._stopping.is_set():
            try:
                first = consumer.poll(self._poll_s)
                messages = [] if first is None else [first, *consumer.consume(self._batch_max,
                                                                                0)]
                self._handle(consumer, messages)
            except KafkaException as exc:
                log.warning("%s: %s; retrying", self._name, exc)
                self._stopping.wait(0.5)

    def _handle(self, consumer: Consumer, messages: list[Message]) -> None:
        raise NotImplementedError
