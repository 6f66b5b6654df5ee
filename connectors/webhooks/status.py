"""Which subscriptions are disabled, on the compacted ``<prefix>.webhook-status`` topic.

A 410 Gone disables a subscription until an operator enables it again. The status lives on
a topic rather than in a local file so it follows the sink to any machine and every sink
process sharing the configuration sees it; the latest record of a subscription wins.
"""

from datetime import UTC, datetime
from typing import Any

from connectors.webhooks.dead_letters import subscription_key
from connectors.webhooks.producer import AsyncProducer
from connectors.webhooks.topics import WebhookTopics
from schemas.codec import codec
from streams.reading import read_committed


def disabled_subscriptions(bootstrap: str, topics: WebhookTopics) -> dict[str, dict[str, Any]]:
    """The disabled subscriptions, with the record that disabled each."""
    latest: dict[str, dict[str, Any]] = {}
    for message in read_committed(bootstrap, topics.status, [0]):
        record = codec().decode("webhook_status", message.value())
        latest[record["subscription_id"]] = record
    return {sid: record for sid, record in latest.items() if record["status"] == "DISABLED"}


async def set_status(producer: AsyncProducer, topics: WebhookTopics, subscription_id: str,
                     disabled: bool, reason: str, last_status: int | None = None) -> None:
    """Record that the subscription is now disabled (or enabled again)."""
    value = codec().encode("webhook_status", {
        "subscription_id": subscription_id, "status": "DISABLED" if disabled else "ENABLED",
        "reason": reason, "last_status": last_status, "changed_at": datetime.now(UTC)})
    await producer.produce(topics.status, subscription_key(subscription_id), value)
