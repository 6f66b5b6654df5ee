"""The sink: one read_committed consumer per subscription, events delivered in key order,
offsets committed only below the lowest event not yet done.

Each subscription has its own consumer group, so its offsets, its pace and its pauses are
its own: a slow or failing endpoint never holds back another subscription. Within one, the
events waiting are bounded; past the bound its partitions are paused until half are done.
"""

import asyncio
import contextlib
import logging
import signal
import time
from collections import Counter
from typing import Any

import aiohttp
from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

from connectors.webhooks.config import Subscription, WebhookConfig
from connectors.webhooks.delivery import Deliverer, Outcome
from connectors.webhooks.events import Event, event_for, ledger_event, wants
from connectors.webhooks.lanes import Lanes
from connectors.webhooks.metrics import WebhookMetrics
from connectors.webhooks.offsets import PartitionOffsets
from connectors.webhooks.producer import AsyncProducer
from connectors.webhooks.status import disabled_subscriptions, set_status
from connectors.webhooks.topics import WebhookTopics, ensure_webhook_topics
from schemas.codec import DecodeError
from streams.errors import LedgerError
from streams.kafka_config import kafka_config
from streams.observability import Readiness

log = logging.getLogger(__name__)

BATCH_MAX = 1000
IDLE_S = 0.005
COMMIT_INTERVAL_S = 0.5
STATS_INTERVAL_S = 30.0
# On SIGTERM, deliveries in flight get this long to finish before they are cancelled (a
# cancelled event is not done: the next run sends it again, with the same webhook-id).
STOP_GRACE_S = 5.0


class SubscriptionSink:
    """Reads the source topics of one subscription and delivers its events."""

    def __init__(self, bootstrap: str, topics: WebhookTopics, subscription: Subscription,
                 config: WebhookConfig, session: aiohttp.ClientSession,
                 producer: AsyncProducer, metrics: WebhookMetrics | None = None,
                 readiness: Readiness | None = None) -> None:
        self.subscription = subscription
        self._metrics = metrics
        self._readiness = readiness
        self._bootstrap = bootstrap
        self._topics = topics
        self._producer = producer
        self._max_pending = config.max_pending_events
        self._deliverer = Deliverer(subscription, config.retry, session,
                                    asyncio.Semaphore(config.max_concurrent_requests),
                                    producer, topics, metrics=metrics)
        self._lanes = Lanes(self._deliverer.deliver, self._done)
        self._offsets: dict[tuple[str, int], PartitionOffsets] = {}
        self._committed: dict[tuple[str, int], int] = {}
        self._consumer: Any = None
        self._paused = False
        self.disabled = False
        self.counts: Counter[str] = Counter()

    @property
    def _readiness_name(self) -> str:
        return f"subscription {self.subscription.id}"

    def _new_consumer(self) -> Consumer:
        return Consumer(kafka_config(self._bootstrap, {
            "group.id": self._topics.group(self.subscription.id),
            "isolation.level": "read_committed", "enable.auto.commit": False,
            "auto.offset.reset": self.subscription.start,
            "fetch.wait.max.ms": 20,
        }))

    async def run(self, stopping: asyncio.Event) -> None:
        """Deliver until ``stopping`` is set or the endpoint answers 410 Gone."""
        if self._readiness is not None:
            self._readiness.block(self._readiness_name, "waiting for its first assignment")
        consumer = self._consumer = self._new_consumer()
        consumer.subscribe(self._topics.sources(self.subscription.events),
                           on_assign=self._assigned, on_revoke=self._revoked,
                           on_lost=self._lost)
        last_commit = last_stats = time.monotonic()
        try:
            while not stopping.is_set() and not self._lanes.halted:
                messages = consumer.consume(BATCH_MAX, 0)
                for message in messages:
                    self._accept(message)
                self._apply_backpressure()
                if self._metrics is not None:
                    self._metrics.pending.labels(self.subscription.id).set(self._lanes.pending)
                now = time.monotonic()
                if now - last_commit >= COMMIT_INTERVAL_S:
                    self._commit(asynchronous=True)
                    last_commit = now
                if now - last_stats >= STATS_INTERVAL_S:
                    log.info("subscription %s: %s, %d pending", self.subscription.id,
                             dict(self.counts), self._lanes.pending)
                    last_stats = now
                await asyncio.sleep(0 if messages else IDLE_S)
            if self._lanes.halted:
                await self._disable()
            else:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._lanes.drained(), STOP_GRACE_S)
        finally:
            await self._lanes.close()
            self._commit(asynchronous=False)
            consumer.close()

    def _accept(self, message: Any) -> None:
        error = message.error()
        if error is not None:
            if error.fatal():
                raise LedgerError(f"subscription {self.subscription.id}: {error}")
            if error.code() != KafkaError._PARTITION_EOF:
                log.warning("subscription %s: %s", self.subscription.id, error)
            return
        topic, partition, offset = message.topic(), message.partition(), message.offset()
        offsets = self._offsets.setdefault((topic, partition), PartitionOffsets())
        offsets.read(offset)
        try:
            found = ledger_event(self._topics.ledger, topic, message.value())
        except (DecodeError, ValueError) as exc:
            # Only processors write these topics; a record that does not decode is reported
            # by `ledger audit`, and there is no event to send for it.
            log.warning("subscription %s: %s[%d]@%d skipped: %s", self.subscription.id,
                        topic, partition, offset, exc)
            found = None
        if found is None or not wants(self.subscription, found):
            offsets.done(offset)
            return
        self._lanes.submit(event_for(self.subscription, found, topic, partition, offset))

    def _done(self, event: Event, outcome: Outcome) -> None:
        if outcome is Outcome.DISABLED:
            return
        self.counts[outcome.value] += 1
        if self._metrics is not None:
            self._metrics.deliveries.labels(self.subscription.id, outcome.value).inc()
        offsets = self._offsets.get((event.topic, event.partition))
        if offsets is not None:
            offsets.done(event.offset)

    def _apply_backpressure(self) -> None:
        pending = self._lanes.pending
        if not self._paused and pending >= self._max_pending:
            self._consumer.pause(self._consumer.assignment())
            self._paused = True
        elif self._paused and pending <= self._max_pending // 2:
            self._consumer.resume(self._consumer.assignment())
            self._paused = False

    def _commit(self, asynchronous: bool,
                only: set[tuple[str, int]] | None = None) -> None:
        due = []
        for tp, offsets in self._offsets.items():
            offset = offsets.committable
            if offset is None or self._committed.get(tp) == offset:
                continue
            if only is None or tp in only:
                due.append(TopicPartition(tp[0], tp[1], offset))
        if not due:
            return
        try:
            self._consumer.commit(offsets=due, asynchronous=asynchronous)
        except KafkaException as exc:
            # Not committing is safe: the events are sent again after a restart.
            log.warning("subscription %s: commit failed: %s", self.subscription.id, exc)
            return
        for committed in due:
            self._committed[(committed.topic, committed.partition)] = committed.offset

    def _assigned(self, consumer: Any, partitions: list[TopicPartition]) -> None:
        for tp in partitions:
            self._offsets[(tp.topic, tp.partition)] = PartitionOffsets()
            self._committed.pop((tp.topic, tp.partition), None)
        if self._paused:
            consumer.pause(partitions)
        if self._readiness is not None:
            self._readiness.clear(self._readiness_name)
        log.info("subscription %s assigned %s", self.subscription.id,
                 sorted(f"{tp.topic}[{tp.partition}]" for tp in partitions))

    def _revoked(self, consumer: Any, partitions: list[TopicPartition]) -> None:
        gone = {(tp.topic, tp.partition) for tp in partitions}
        self._commit(asynchronous=False, only=gone)
        self._forget(gone)

    def _lost(self, consumer: Any, partitions: list[TopicPartition]) -> None:
        self._forget({(tp.topic, tp.partition) for tp in partitions})

    def _forget(self, gone: set[tuple[str, int]]) -> None:
        self._lanes.drop_partitions(gone)
        for tp in gone:
            self._offsets.pop(tp, None)
            self._committed.pop(tp, None)

    async def _disable(self) -> None:
        answer = self._deliverer.last_answer
        status = None if answer is None else answer.status
        log.error("subscription %s disabled: its endpoint answered 410 Gone; "
                  "`ledger sink webhook enable` resumes it from the first event not delivered",
                  self.subscription.id)
        await set_status(self._producer, self._topics, self.subscription.id, True,
                         "the endpoint answered 410 Gone", status)
        self.disabled = True


def check_sources(bootstrap: str, topics: WebhookTopics, config: WebhookConfig) -> None:
    """Fail with a clear message when the ledger's topics do not exist yet."""
    consumer = Consumer(kafka_config(bootstrap, {"group.id": "webhook-sink-check"}))
    try:
        known = consumer.list_topics(timeout=15).topics
    except KafkaException as exc:
        raise LedgerError(f"cannot reach Kafka at {bootstrap}: {exc}") from exc
    finally:
        consumer.close()
    wanted = {t for s in config.subscriptions for t in topics.sources(s.events)}
    missing = sorted(wanted - set(known))
    if missing:
        raise LedgerError(f"the ledger's topics {', '.join(missing)} do not exist: start a "
                          "processor (`ledger processor run`) with this --topic-prefix")


async def run_sink(bootstrap: str, topics: WebhookTopics, config: WebhookConfig,
                   stopping: asyncio.Event | None = None, metrics: WebhookMetrics | None = None,
                   readiness: Readiness | None = None) -> dict[str, dict[str, int]]:
    """Run every enabled subscription until SIGTERM/SIGINT (or ``stopping``); return what
    each delivered and dead-lettered."""
    check_sources(bootstrap, topics, config)
    ensure_webhook_topics(bootstrap, topics)
    disabled = disabled_subscriptions(bootstrap, topics)
    for subscription_id in disabled:
        log.warning("subscription %s is disabled (its endpoint answered 410 Gone); "
                    "`ledger sink webhook enable` resumes it", subscription_id)
    enabled = [s for s in config.subscriptions if s.id not in disabled]
    if not enabled:
        raise LedgerError("every subscription of the configuration is disabled; "
                          "`ledger sink webhook enable --subscription ID` enables one again")
    stopping = stopping or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        # Only the main thread can take signals; a sink run elsewhere stops by ``stopping``.
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signum, stopping.set)
    producer = AsyncProducer(bootstrap)
    sessions = [aiohttp.ClientSession(connector=aiohttp.TCPConnector(
        limit=config.max_concurrent_requests)) for _ in enabled]
    sinks = [SubscriptionSink(bootstrap, topics, s, config, session, producer, metrics,
                              readiness)
             for s, session in zip(enabled, sessions, strict=True)]
    for sink in sinks:
        log.info("subscription %s: %s to %s", sink.subscription.id,
                 ", ".join(e.value for e in sink.subscription.events), sink.subscription.url)
    try:
        tasks = [asyncio.create_task(sink.run(stopping)) for sink in sinks]
        try:
            await asyncio.gather(*tasks)
        except BaseException:
            stopping.set()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
    finally:
        for session in sessions:
            await session.close()
        await producer.close()
    return {sink.subscription.id: dict(sink.counts) for sink in sinks}
