"""The cards and accounts a front door may name, followed from the catalog topic.

A card is found by the keyed hash of its PAN or by its processor token. A card created a
moment ago may not have reached this process yet, so a miss reads the catalog to its
current end once before the card is declared unknown.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid

from confluent_kafka import Consumer, Message, TopicPartition

from connectors.graphql_api.consumer_thread import ConsumerThread
from ledger_core.cards import Card, pan_hash
from ledger_core.catalog import Catalog
from schemas.codec import codec
from streams.catalog import entity_from
from streams.kafka_config import kafka_config
from streams.offsets import end_offset
from streams.topics import Topics

__all__ = ["CardDirectory"]

log = logging.getLogger(__name__)

POLL_S = 0.05
FRESH_WAIT_S = 2.0


class CardDirectory(ConsumerThread):
    """Follows the catalog topic into a ``Catalog`` and finds cards in it."""

    def __init__(self, bootstrap: str, topics: Topics, pan_key: bytes) -> None:
        self.bootstrap = bootstrap
        self.topics = topics
        self.catalog = Catalog()
        self._pan_key = pan_key
        self._position = 0
        self._lock = threading.Lock()
        self._probe_lock = threading.Lock()
        self._probe: Consumer | None = None
        super().__init__("card-directory", POLL_S, 1000)

    def start(self) -> None:
        """Read the catalog from the beginning, then follow it."""
        config = kafka_config(self.bootstrap, {
            "client.id": "ledger-card-directory", "group.id": f"card-directory-{uuid.uuid4()}",
            "isolation.level": "read_committed", "enable.auto.commit": False,
            "enable.partition.eof": False,
        })
        consumer = Consumer(config)
        consumer.assign([TopicPartition(self.topics.catalog, 0, 0)])
        self._probe = Consumer(config)
        self._launch(consumer)

    def stop(self) -> None:
        """Stop following the catalog."""
        super().stop()
        if self._probe is not None:
            self._probe.close()
            self._probe = None

    def _handle(self, consumer: Consumer, messages: list[Message]) -> None:
        for message in messages:
            if message.error() is not None:
                continue
            try:
                entity = entity_from(codec().decode("catalog_record", message.value()))
            except Exception:  # a record no desk wrote: the desk quarantines it, skip it here
                log.warning("card directory: catalog record at offset %s skipped",
                            message.offset())
                continue
            with self._lock:
                self.catalog.put(entity)
        # The position, not the last record: a transaction's commit marker follows it.
        position = consumer.position([TopicPartition(self.topics.catalog, 0)])[0].offset
        self._position = max(self._position, position)

    def wait_ready(self, timeout_s: float) -> bool:
        """True once the catalog written before now has been read."""
        return self._reached(self._end(), timeout_s)

    def _end(self) -> int:
        assert self._probe is not None, "start the directory first"
        with self._probe_lock:
            return end_offset(self._probe, self.topics.catalog, 0)

    def _reached(self, end: int, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while self._position < end:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.005)
        return True

    async def card(self, pan: str | None, card_token: str | None) -> Card | None:
        """The card with this PAN or token; None when the catalog does not know it."""
        found = self._find(pan, card_token)
        if found is None:
            await asyncio.to_thread(lambda: self._reached(self._end(), FRESH_WAIT_S))
            found = self._find(pan, card_token)
        return found

    def _find(self, pan: str | None, card_token: str | None) -> Card | None:
        with self._lock:
            if pan is not None:
                return self.catalog.card_by_pan_hash(pan_hash(pan, self._pan_key))
            if card_token is not None:
                return self.catalog.card_by_token(card_token)
        return None
