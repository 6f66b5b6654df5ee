"""Delivering one event to one endpoint: sign, POST, retry, and give up into the dead-letter
topic when the retry budget (attempts and age) is spent."""

import asyncio
import logging
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum

import aiohttp

from connectors.webhooks import signing
from connectors.webhooks.config import RetryPolicy, Subscription
from connectors.webhooks.dead_letters import Failure, write_dead_letter
from connectors.webhooks.events import Event
from connectors.webhooks.metrics import WebhookMetrics, answer_class
from connectors.webhooks.producer import AsyncProducer
from connectors.webhooks.retry import Verdict, backoff, retry_after, verdict
from connectors.webhooks.topics import WebhookTopics
from streams.errors import LedgerError

log = logging.getLogger(__name__)

# A receiver's answer body is read (so the connection can be reused) up to this size.
RESPONSE_BYTES_MAX = 64 * 1024
DEAD_LETTER_RETRY_S = 1.0


class Outcome(Enum):
    """How an event's delivery ended."""

    DELIVERED = "delivered"
    DEAD_LETTERED = "dead_lettered"
    # The endpoint answered 410 Gone: the event is not done, the subscription stops.
    DISABLED = "disabled"


@dataclass(frozen=True)
class Answer:
    """One attempt's answer: a status, or no answer and why."""

    status: int | None
    retry_after: str | None
    error: str


class Deliverer:
    """Sends the events of one subscription."""

    def __init__(self, subscription: Subscription, policy: RetryPolicy,
                 session: aiohttp.ClientSession, concurrency: asyncio.Semaphore,
                 producer: AsyncProducer, topics: WebhookTopics,
                 rng: random.Random | None = None, metrics: WebhookMetrics | None = None
                 ) -> None:
        self.subscription = subscription
        self._metrics = metrics
        self._key = subscription.key
        self._policy = policy
        self._session = session
        self._timeout = aiohttp.ClientTimeout(total=policy.request_timeout_seconds)
        # Held only while a request is on the wire, never while a key waits to retry, so a
        # key that backs off does not hold back the others.
        self._concurrency = concurrency
        self._producer = producer
        self._topics = topics
        self._rng = rng or random.Random()
        self.last_answer: Answer | None = None

    async def attempt(self, event: Event) -> Answer:
        """One signed POST of the event."""
        headers = signing.headers(self._key, event.webhook_id, int(time.time()), event.body)
        async with self._concurrency:
            try:
                async with self._session.post(self.subscription.url, data=event.body,
                                              headers=headers, allow_redirects=False,
                                              timeout=self._timeout) as response:
                    await response.content.read(RESPONSE_BYTES_MAX)
                    return Answer(response.status, response.headers.get("Retry-After"),
                                  f"HTTP {response.status}")
            except (aiohttp.ClientError, TimeoutError) as exc:
                return Answer(None, None, f"{type(exc).__name__}: {exc}".rstrip(": "))

    async def deliver(self, event: Event) -> Outcome:
        """Try until delivered, refused, out of budget, or the endpoint is gone."""
        policy = self._policy
        started, first_attempt_at = time.monotonic(), datetime.now(UTC)
        attempts = 0
        while True:
            attempts += 1
            answer = self.last_answer = await self.attempt(event)
            if self._metrics is not None:
                self._metrics.attempts.labels(self.subscription.id,
                                              answer_class(answer.status)).inc()
            decided = verdict(answer.status)
            if decided is Verdict.DELIVERED:
                return Outcome.DELIVERED
            if decided is Verdict.DISABLE:
                return Outcome.DISABLED
            if decided is Verdict.RETRY and attempts < policy.max_attempts:
                asked = retry_after(answer.retry_after)
                wait = (min(asked, policy.max_retry_after_seconds) if asked is not None
                        else backoff(attempts, policy.initial_backoff_seconds,
                                     policy.max_backoff_seconds, self._rng))
                if time.monotonic() - started + wait <= policy.max_age_seconds:
                    await asyncio.sleep(wait)
                    continue
            await self._dead_letter(event, Failure(attempts, answer.status, answer.error,
                                                   first_attempt_at))
            return Outcome.DEAD_LETTERED

    async def _dead_letter(self, event: Event, failure: Failure) -> None:
        log.warning("subscription %s: event %s (%s) dead-lettered after %d attempt(s): %s",
                    event.subscription_id, event.webhook_id, event.type.value,
                    failure.attempts, failure.error)
        # The event is done only once its dead letter is written; until then the key waits.
        while True:
            try:
                await write_dead_letter(self._producer, self._topics, event, failure)
                return
            except LedgerError as exc:
                log.warning("subscription %s: %s; trying again", event.subscription_id, exc)
                await asyncio.sleep(DEAD_LETTER_RETRY_S)
