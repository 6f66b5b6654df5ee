"""Sending a subscription's events again: its dead letters, or the source topics from an
offset or a time up to their end as of now.

A replayed event carries the webhook-id it had the first time (a dead letter keeps it; a
source record's position derives it again), so a receiver that deduplicates by id sees a
replay of an event it already has as the duplicate it is. A replay keeps key order, uses the
subscription's retry policy, writes a new dead letter for an event that fails again, and
leaves the sink's committed offsets alone.
"""

import asyncio
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiohttp
from confluent_kafka import Consumer, TopicPartition

from connectors.webhooks.config import Subscription, WebhookConfig
from connectors.webhooks.dead_letters import dead_letters
from connectors.webhooks.delivery import Deliverer, Outcome
from connectors.webhooks.events import Event, event_for, ledger_event, wants
from connectors.webhooks.lanes import Lanes
from connectors.webhooks.producer import AsyncProducer
from connectors.webhooks.topics import WebhookTopics, ensure_webhook_topics
from streams.errors import LedgerError
from streams.kafka_config import kafka_config
from streams.offsets import end_offset

CHUNK = 500


@dataclass(frozen=True)
class FromDeadLetters:
    """The subscription's dead letters, oldest first."""


@dataclass(frozen=True)
class FromOffset:
    """Every partition of the source topics from this offset."""

    offset: int


@dataclass(frozen=True)
class FromTime:
    """Every partition of the source topics from the first record at or after this time."""

    at: datetime


Origin = FromDeadLetters | FromOffset | FromTime


def _source_events(bootstrap: str, topics: WebhookTopics, subscription: Subscription,
                   origin: FromOffset | FromTime) -> Iterator[Event]:
    for topic in topics.sources(subscription.events):
        for message in _committed_from(bootstrap, topic, origin):
            found = ledger_event(topics.ledger, topic, message.value())
            if found is not None and wants(subscription, found):
                yield event_for(subscription, found, topic, message.partition(),
                                message.offset())


def _committed_from(bootstrap: str, topic: str, origin: FromOffset | FromTime) -> Iterator[Any]:
    """The committed records of every partition of ``topic`` from ``origin`` to the end the
    partition has now, each partition in log order."""
    consumer = Consumer(kafka_config(bootstrap, {
        "group.id": f"replay-{uuid.uuid4()}", "isolation.level": "read_committed",
        "enable.auto.commit": False,
    }))
    try:
        metadata = consumer.list_topics(topic, timeout=15).topics.get(topic)
        if metadata is None or metadata.error is not None:
            raise LedgerError(f"topic {topic} does not exist")
        partitions = sorted(metadata.partitions)
        if isinstance(origin, FromOffset):
            starts = dict.fromkeys(partitions, origin.offset)
        else:
            wanted = [TopicPartition(topic, p, int(origin.at.timestamp() * 1000))
                      for p in partitions]
            starts = {tp.partition: tp.offset
                      for tp in consumer.offsets_for_times(wanted, timeout=15)}
        ends = {p: end_offset(consumer, topic, p) for p in partitions}
        # offsets_for_times answers -1 for a partition with nothing at or after the time.
        pending = {p for p in partitions if 0 <= starts[p] < ends[p]}
        if not pending:
            return
        consumer.assign([TopicPartition(topic, p, starts[p]) for p in pending])
        while pending:
            for message in consumer.consume(CHUNK, timeout=0.05):
                partition, offset = message.partition(), message.offset()
                if message.error() is None and partition in pending \
                        and offset is not None and offset < ends[partition]:
                    yield message
            positions = consumer.position([TopicPartition(topic, p) for p in pending])
            pending -= {tp.partition for tp in positions if tp.offset >= ends[tp.partition]}
    finally:
        consumer.close()


async def _feed(events: Iterator[Event], lanes: Lanes, max_pending: int) -> None:
    """Read ``events`` on a thread (Kafka reads block) and submit them on the loop, never
    more than ``max_pending`` at once."""
    loop = asyncio.get_running_loop()
    chunks: asyncio.Queue[list[Event] | BaseException | None] = asyncio.Queue(maxsize=4)
    stop = threading.Event()

    def read() -> None:
        def put(item: list[Event] | BaseException | None) -> None:
            asyncio.run_coroutine_threadsafe(chunks.put(item), loop).result()
        try:
            chunk: list[Event] = []
            for event in events:
                if stop.is_set():
                    return
                chunk.append(event)
                if len(chunk) >= CHUNK:
                    put(chunk)
                    chunk = []
            put(chunk)
            put(None)
        except BaseException as exc:
            put(exc)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        while (item := await chunks.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            for event in item:
                while lanes.pending >= max_pending:
                    await asyncio.sleep(0.01)
                if lanes.halted:
                    return
                lanes.submit(event)
    finally:
        stop.set()
        while reader.is_alive():
            # Unblock a reader waiting to put a chunk.
            while not chunks.empty():
                chunks.get_nowait()
            await asyncio.sleep(0.01)


async def replay(bootstrap: str, topics: WebhookTopics, config: WebhookConfig,
                 subscription_id: str, origin: Origin) -> dict[str, int]:
    """Send the events again; return how many were delivered and dead-lettered (and
    ``disabled: 1`` when the endpoint answered 410 Gone, which ends the replay)."""
    subscription = config.subscription(subscription_id)
    ensure_webhook_topics(bootstrap, topics)
    events: Iterator[Event]
    if isinstance(origin, FromDeadLetters):
        events = (event for event, _failure in dead_letters(bootstrap, topics,
                                                            subscription_id))
    else:
        events = _source_events(bootstrap, topics, subscription, origin)
    counts: Counter[str] = Counter()
    producer = AsyncProducer(bootstrap)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(
            limit=config.max_concurrent_requests)) as session:
        deliverer = Deliverer(subscription, config.retry, session,
                              asyncio.Semaphore(config.max_concurrent_requests), producer,
                              topics)
        lanes = Lanes(deliverer.deliver, lambda _event, outcome: counts.update([outcome.value]))
        try:
            await _feed(events, lanes, config.max_pending_events)
            await lanes.drained()
        finally:
            await lanes.close()
            await producer.close()
    return {outcome.value: counts[outcome.value] for outcome in Outcome}
