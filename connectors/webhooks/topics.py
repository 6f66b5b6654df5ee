"""The topics the webhook sink reads and the two it writes, created when missing."""

from dataclasses import dataclass

from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from connectors.webhooks.config import EventType
from streams.kafka_config import kafka_config
from streams.topics import Topics, TopicSpec, create_topics


@dataclass(frozen=True)
class WebhookTopics:
    """Names derived from the ledger's topic prefix."""

    ledger: Topics

    @property
    def dead_letters(self) -> str:
        """Events given up on, kept forever so they can be replayed."""
        return self.ledger.webhook_dead_letters

    @property
    def status(self) -> str:
        """Disabled subscriptions (compacted, keyed by subscription)."""
        return self.ledger.webhook_status

    def group(self, subscription_id: str) -> str:
        """The consumer group of one subscription: each has its own offsets."""
        return f"{self.ledger.webhook_group_prefix}{subscription_id}"

    def source(self, event_type: EventType) -> str:
        """The topic an event type is read from."""
        return {EventType.BALANCE_UPDATED: self.ledger.balances,
                EventType.TRANSACTION_POSTED: self.ledger.transactions,
                EventType.TRANSACTION_VOIDED: self.ledger.transactions,
                EventType.RESULT_REJECTED: self.ledger.results}[event_type]

    def sources(self, event_types: tuple[EventType, ...]) -> list[str]:
        """The topics a subscription to ``event_types`` reads, each once."""
        return sorted({self.source(event_type) for event_type in event_types})

    def specs(self) -> list[TopicSpec]:
        """The sink's own topics. One partition each: they are small, and one partition
        keeps a subscription's dead letters in the order they were given up."""
        return [TopicSpec(self.dead_letters, 1, False, "webhook events given up on"),
                TopicSpec(self.status, 1, True, "disabled webhook subscriptions")]


def ensure_webhook_topics(bootstrap: str, topics: WebhookTopics) -> None:
    """Create the sink's topics when they are missing."""
    admin = AdminClient(kafka_config(bootstrap))
    known = admin.list_topics(timeout=15)
    replication = min(3, len(known.brokers))
    create_topics(admin, [NewTopic(spec.name, spec.partitions, replication, config=spec.config)
                          for spec in topics.specs() if spec.name not in known.topics])
