"""The webhook sink: the ledger's balance, transaction and rejection events, signed the
Standard Webhooks way and delivered at least once, in order per key (docs/webhooks.md)."""

from connectors.webhooks.config import ConfigError, EventType, WebhookConfig, load_config
from connectors.webhooks.replay import FromDeadLetters, FromOffset, FromTime, replay
from connectors.webhooks.sink import run_sink
from connectors.webhooks.status import set_status
from connectors.webhooks.topics import WebhookTopics

__all__ = ["ConfigError", "EventType", "FromDeadLetters", "FromOffset", "FromTime",
           "WebhookConfig", "WebhookTopics", "load_config", "replay", "run_sink", "set_status"]
