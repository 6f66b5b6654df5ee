"""``ledger sink webhook run`` SIGKILLed again and again while postings keep coming: in the
end every event arrived at least once, in order per key, and a duplicate always carried
the webhook-id of the first delivery."""

import threading
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from connectors.webhooks.config import load_config
from connectors.webhooks.events import event_for, ledger_event, wants
from streams.reading import read_committed
from tests.webhooks.conftest import WebhookLedger, wait_until, webhook_sink, write_config
from tests.webhooks.receiver import Answer, Receiver

pytestmark = pytest.mark.kafka

KILLS = 4
ROUNDS = 15


def _expected(hooks: WebhookLedger, config: Path) -> dict[str, tuple[str, int]]:
    """webhook-id -> (ordering key, position in that key's order), read from the topics."""
    [subscription] = load_config(config).subscriptions
    expected: dict[str, tuple[str, int]] = {}
    counts: dict[str, int] = defaultdict(int)
    topics = hooks.ledger.topics
    for topic in (topics.balances, topics.transactions):
        for partition in range(topics.partitions):
            for message in read_committed(hooks.ledger.bootstrap, topic, [partition]):
                found = ledger_event(topics, topic, message.value())
                if found is None or not wants(subscription, found):
                    continue
                event = event_for(subscription, found, topic, partition, message.offset())
                counts[event.ordering_key] += 1
                expected[event.webhook_id] = (event.ordering_key, counts[event.ordering_key])
    return expected


def test_sigkill_and_restart_lose_nothing_and_keep_key_order(
        webhook_ledger: WebhookLedger, tmp_path: Path) -> None:
    """Deposits to four customers while the sink is killed ``KILLS`` times."""
    hooks = webhook_ledger

    def behaviour(_path: str, _id: str, _attempt: int, _event: dict[str, Any]) -> Answer:
        # Slow enough that a kill finds deliveries in flight.
        return Answer(200, delay_s=0.02)

    receiver = Receiver(behaviour)
    try:
        url, secret = receiver.endpoint("crash")
        config = write_config(tmp_path / "webhooks.yaml", [
            {"id": "crash", "url": url, "secret": secret,
             "events": ["balance.updated", "transaction.posted"],
             "accounts": [str(c.account_id) for c in hooks.customers]}],
            max_concurrent_requests=4)
        finished = threading.Event()
        failures: list[BaseException] = []

        def workload() -> None:
            try:
                for round_ in range(ROUNDS):
                    sent = [hooks.client.send_post(
                        uuid.uuid4(), "ACH_CREDIT",
                        {"account": str(c.account_id), "amount": f"{round_ + 1}.25",
                         "effective": "2022-09-21"}, owner=c.account_id)
                        for c in hooks.customers]
                    results = hooks.client.wait(sent)
                    assert all(r.status == "POSTED" for r in results.values()), results
            except BaseException as exc:
                failures.append(exc)
            finally:
                finished.set()

        sink = webhook_sink(hooks.ledger.bootstrap, hooks.ledger.topics.prefix, config,
                            tmp_path / "sink.log")
        poster = threading.Thread(target=workload, daemon=True)
        poster.start()
        for _ in range(KILLS):
            seen = len(receiver.received)
            sink.start()
            wait_until(lambda seen=seen: len(receiver.received) >= seen + 5,  # type: ignore[misc]
                       "the sink to deliver between kills")
            sink.kill()
        finished.wait(180)
        assert not failures, failures
        hooks.client.wait_converged()
        expected = _expected(hooks, config)
        assert len(expected) == ROUNDS * len(hooks.customers) * 2
        sink.start()
        wait_until(lambda: expected.keys() <= {r.webhook_id for r in receiver.received},
                   "every event after the last restart")
        assert sink.stop() == 0
    finally:
        receiver.close()

    assert receiver.unverified == []
    got = receiver.accepted("crash")
    assert {r.webhook_id for r in got} == expected.keys()
    # In order per key: an event arrives only after every earlier event of its key did.
    delivered: dict[str, set[int]] = defaultdict(set)
    for r in got:
        key, position = expected[r.webhook_id]
        assert set(range(1, position)) <= delivered[key], (key, position, delivered[key])
        delivered[key].add(position)
    # A duplicate is the same event: one id per (key, position), and the same body.
    bodies: dict[str, set[bytes]] = defaultdict(set)
    for r in got:
        bodies[r.webhook_id].add(r.body)
    assert all(len(b) == 1 for b in bodies.values())
    log = (tmp_path / "sink.log").read_text()
    assert secret not in log and secret.removeprefix("whsec_") not in log
