"""The webhook sink's metrics and readiness, scraped over HTTP from a ``ledger sink webhook
run`` process: deliveries, attempts by answer (so retries), and ready once assigned."""

from pathlib import Path
from typing import Any

import pytest

from ledger_core import tutorial
from tests.scrape import Endpoint, free_port
from tests.webhooks.conftest import (
    FAST_RETRY,
    WebhookLedger,
    wait_until,
    webhook_sink,
    write_config,
)
from tests.webhooks.receiver import Answer, Receiver

pytestmark = pytest.mark.kafka


def _first_attempt_fails(_path: str, _id: str, attempt: int, _event: dict[str, Any]
                         ) -> Answer:
    return Answer(status=503) if attempt == 1 else Answer()


def test_deliveries_and_retries_move_the_sinks_metrics(
        webhook_ledger: WebhookLedger, tmp_path: Path) -> None:
    """Three balance versions, each refused once with a 503: three deliveries, three 5xx
    attempts and three 2xx attempts, and /readyz 200 once the subscription is assigned."""
    hooks = webhook_ledger
    receiver = Receiver(_first_attempt_fails)
    url, secret = receiver.endpoint("metered")
    config = write_config(tmp_path / "webhooks.yaml", [
        {"id": "metered", "url": url, "secret": secret, "events": ["balance.updated"],
         "accounts": [str(tutorial.ERNIE.account_id)], "start": "earliest"}],
        retry=FAST_RETRY)
    port = free_port()
    sink = webhook_sink(hooks.ledger.bootstrap, hooks.ledger.topics.prefix, config,
                        tmp_path / "sink.log")
    sink.arguments += ["--metrics-port", str(port)]
    endpoint = Endpoint(f"http://127.0.0.1:{port}")
    try:
        sink.start()
        assert endpoint.readiness_seen()[-1] == 200, sink.log_since_start()
        for amount in ("1.00", "2.00", "3.00"):
            hooks.deposit(tutorial.ERNIE, amount)
        wait_until(lambda: len(receiver.accepted("metered")) == 3, "three deliveries")
        scrape = endpoint.until(lambda s: s.value(
            "ledger_webhook_deliveries_total", subscription="metered",
            outcome="delivered") >= 3 and s.value("ledger_webhook_pending_events",
                                                  subscription="metered") == 0)
        assert scrape.value("ledger_webhook_deliveries_total", subscription="metered",
                            outcome="delivered") == 3
        assert scrape.value("ledger_webhook_deliveries_total", subscription="metered",
                            outcome="dead_lettered") == 0
        assert scrape.value("ledger_webhook_attempts_total", subscription="metered",
                            answer="5xx") == 3
        assert scrape.value("ledger_webhook_attempts_total", subscription="metered",
                            answer="2xx") == 3
        assert scrape.value("ledger_webhook_pending_events", subscription="metered") == 0
    finally:
        sink.stop()
        receiver.close()
