"""The dead-letter topic: events a subscription's endpoint did not take within the retry
budget, or refused, kept with everything a replay needs to send them again as they were."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from connectors.webhooks.config import EventType
from connectors.webhooks.events import Event
from connectors.webhooks.producer import AsyncProducer
from connectors.webhooks.topics import WebhookTopics
from schemas.codec import codec
from streams.reading import read_committed


@dataclass(frozen=True)
class Failure:
    """How the last attempt of an event ended."""

    attempts: int
    status: int | None
    error: str
    first_attempt_at: datetime


def subscription_key(subscription_id: str) -> bytes:
    """The framed key of the sink's records about a subscription."""
    return codec().encode("webhook_key", {"subscription_id": subscription_id})


async def write_dead_letter(producer: AsyncProducer, topics: WebhookTopics, event: Event,
                            failure: Failure) -> None:
    """Record ``event`` as given up on; returns once the brokers have it."""
    value = codec().encode("webhook_dead_letter", {
        "subscription_id": event.subscription_id, "webhook_id": event.webhook_id,
        "event_type": event.type.value, "ordering_key": event.ordering_key,
        "source_topic": event.topic, "source_partition": event.partition,
        "source_offset": event.offset, "body": event.body.decode(),
        "attempts": failure.attempts, "last_status": failure.status,
        "last_error": failure.error, "first_attempt_at": failure.first_attempt_at,
        "dead_lettered_at": datetime.now(UTC),
    })
    await producer.produce(topics.dead_letters, subscription_key(event.subscription_id), value)


def dead_letters(bootstrap: str, topics: WebhookTopics,
                 subscription_id: str) -> Iterator[tuple[Event, Failure]]:
    """The subscription's dead letters, oldest first, as the events they hold."""
    for message in read_committed(bootstrap, topics.dead_letters, [0]):
        record = codec().decode("webhook_dead_letter", message.value())
        if record["subscription_id"] != subscription_id:
            continue
        event = Event(record["subscription_id"], record["webhook_id"],
                      EventType(record["event_type"]), record["ordering_key"],
                      record["source_topic"], record["source_partition"],
                      record["source_offset"], record["body"].encode())
        yield event, Failure(record["attempts"], record["last_status"], record["last_error"],
                             record["first_attempt_at"])
