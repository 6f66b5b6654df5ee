"""What the webhook sink tells Prometheus: deliveries, attempts (so retries), pending events."""

from prometheus_client import CollectorRegistry, Counter, Gauge


class WebhookMetrics:
    """The sink's metrics on ``registry`` (docs/operations.md lists them)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.deliveries = Counter(
            "ledger_webhook_deliveries", "Events done, by subscription and outcome "
            "(delivered, dead_lettered)", ["subscription", "outcome"], registry=registry)
        self.attempts = Counter(
            "ledger_webhook_attempts", "HTTP attempts by subscription and answer (2xx, 3xx, "
            "4xx, 5xx, or error when no answer came); attempts minus deliveries are retries",
            ["subscription", "answer"], registry=registry)
        self.pending = Gauge(
            "ledger_webhook_pending_events", "Events read and not yet delivered or "
            "dead-lettered", ["subscription"], registry=registry)


def answer_class(status: int | None) -> str:
    """``2xx`` for 204, ``error`` for no answer at all."""
    return "error" if status is None else f"{status // 100}xx"
