"""The sink against the real broker, a real processor and a receiver that verifies every
signature with the standardwebhooks library."""

import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from connectors.webhooks.events import webhook_id
from ledger_core import tutorial
from schemas.codec import codec
from streams.reading import read_committed
from tests.webhooks.conftest import (
    FAST_RETRY,
    SinkThread,
    WebhookLedger,
    run_cli,
    wait_until,
    write_config,
)
from tests.webhooks.receiver import Answer, Received, Receiver

pytestmark = pytest.mark.kafka


def _versions(received: list[Received], account: uuid.UUID) -> list[int]:
    return [r.data["version"] for r in received
            if r.type == "balance.updated" and r.data["accountId"] == str(account)]


def _kafka_args(hooks: WebhookLedger) -> list[str]:
    return ["--bootstrap-servers", hooks.ledger.bootstrap,
            "--topic-prefix", hooks.ledger.topics.prefix]


def test_every_event_type_arrives_signed_filtered_and_in_order(
        webhook_ledger: WebhookLedger, receiver: Receiver, tmp_path: Path) -> None:
    """Deposits, a void and a rejection reach the subscription that wants all of it; the
    one filtered to Bert gets Bert's balances only."""
    hooks = webhook_ledger
    url_all, secret_all = receiver.endpoint("all")
    url_bert, secret_bert = receiver.endpoint("bert")
    config = write_config(tmp_path / "webhooks.yaml", [
        {"id": "all", "url": url_all, "secret": secret_all,
         "events": ["balance.updated", "transaction.posted", "transaction.voided",
                    "result.rejected"]},
        {"id": "bert", "url": url_bert, "secret": secret_bert, "events": ["balance.updated"],
         "accounts": [str(tutorial.BERT.account_id)]}])
    sink = SinkThread(hooks.ledger.bootstrap, hooks.topics, config)
    try:
        amounts = ["9.53", "0.10", "100.00"]
        deposits = [hooks.deposit(tutorial.ERNIE, amount) for amount in amounts]
        hooks.deposit(tutorial.BERT, "1.25")
        assert hooks.client.void(deposits[1], owner=tutorial.ERNIE.account_id).ok
        rejected = hooks.client.post(uuid.uuid4(), "NO_SUCH_CODE", {},
                                     owner=tutorial.ERNIE.account_id)
        assert rejected.status == "REJECTED"
        hooks.client.wait_converged()
        wait_until(lambda: any(r.type == "result.rejected" for r in receiver.accepted("all"))
                   and len(_versions(receiver.accepted("all"), tutorial.ERNIE.account_id)) == 4
                   and len(receiver.accepted("bert")) == 1, "every event")
    finally:
        sink.stop()
    assert receiver.unverified == []
    got = receiver.accepted("all")
    assert _versions(got, tutorial.ERNIE.account_id) == [1, 2, 3, 4]
    ernie = [r.data for r in got if r.type == "balance.updated"
             and r.data["accountId"] == str(tutorial.ERNIE.account_id)]
    # 9.53 + 0.10 + 100.00, then the void: an opposite-signed copy of the 0.10 credit.
    assert [b["settled"]["normalBalance"] for b in ernie] == ["9.53", "9.63", "109.63",
                                                              "109.53"]
    assert (ernie[-1]["settled"]["drBalance"], ernie[-1]["settled"]["crBalance"]) == (
        "0", "109.53")
    posted = [r.data["transactionId"] for r in got if r.type == "transaction.posted"]
    assert set(map(str, deposits)) <= set(posted)
    [voided] = [r for r in got if r.type == "transaction.voided"]
    assert voided.data["transactionId"] == str(deposits[1])
    assert voided.data["voidedBy"] is not None
    order = [r.type for r in got if r.data.get("transactionId") == str(deposits[1])
             and r.type.startswith("transaction.")]
    assert order == ["transaction.posted", "transaction.voided"]
    [rejection] = [r for r in got if r.type == "result.rejected"]
    assert rejection.data["commandId"] == rejected.command_id
    assert rejection.data["code"] == rejected.code
    bert = receiver.accepted("bert")
    assert [(r.type, r.data["accountId"], r.data["settled"]["normalBalance"]) for r in bert] == [
        ("balance.updated", str(tutorial.BERT.account_id), "1.25")]
    assert len({r.webhook_id for r in got}) == len(got)


def test_failures_are_retried_with_the_same_webhook_id_and_key_order_holds(
        webhook_ledger: WebhookLedger, tmp_path: Path) -> None:
    """Each event first gets a 503, a dropped connection and a 429 with Retry-After, then
    a 200: every event arrives once accepted, after four attempts of one id, in order."""
    def flaky(_path: str, _id: str, attempt: int, _event: dict[str, Any]) -> Answer:
        return {1: Answer(503), 2: Answer(drop=True),
                3: Answer(429, {"Retry-After": "0"})}.get(attempt, Answer(200))

    receiver = Receiver(flaky)
    try:
        url, secret = receiver.endpoint("flaky")
        config = write_config(tmp_path / "webhooks.yaml", [
            {"id": "flaky", "url": url, "secret": secret, "events": ["balance.updated"],
             "accounts": [str(c.account_id) for c in webhook_ledger.customers]}],
            retry={**FAST_RETRY, "max_attempts": 6})
        sink = SinkThread(webhook_ledger.ledger.bootstrap, webhook_ledger.topics, config)
        try:
            for round_ in range(3):
                for customer in webhook_ledger.customers:
                    webhook_ledger.deposit(customer, f"{round_ + 1}.01")
            wait_until(lambda: len(receiver.accepted("flaky")) == 12, "12 balance events")
        finally:
            sink.stop()
        assert receiver.unverified == []
        got = receiver.accepted("flaky")
        assert all(r.attempt == 4 for r in got)
        assert all(receiver.attempts[r.webhook_id] == 4 for r in got)
        for customer in webhook_ledger.customers:
            assert _versions(got, customer.account_id) == [1, 2, 3]
    finally:
        receiver.close()


def test_a_held_key_does_not_hold_the_others(webhook_ledger: WebhookLedger,
                                             tmp_path: Path) -> None:
    """The first customer's first event is held open until every other customer's events
    have arrived: the sink would never get there if one key held the rest."""
    slow, others = webhook_ledger.customers[0], webhook_ledger.customers[1:]
    receiver: Receiver

    def others_arrived() -> bool:
        return all(len(_versions(receiver.accepted("slow"), c.account_id)) == 2
                   for c in others)

    def behaviour(_path: str, _id: str, _attempt: int, event: dict[str, Any]) -> Answer:
        if event["data"]["accountId"] == str(slow.account_id) and event["data"]["version"] == 1:
            return Answer(200, hold=others_arrived)
        return Answer(200)

    receiver = Receiver(behaviour)
    try:
        url, secret = receiver.endpoint("slow")
        config = write_config(tmp_path / "webhooks.yaml", [
            {"id": "slow", "url": url, "secret": secret, "events": ["balance.updated"],
             "accounts": [str(c.account_id) for c in webhook_ledger.customers]}],
            retry={"request_timeout_seconds": 120})
        sink = SinkThread(webhook_ledger.ledger.bootstrap, webhook_ledger.topics, config)
        try:
            for _ in range(2):
                for customer in webhook_ledger.customers:
                    webhook_ledger.deposit(customer, "5.00")
            wait_until(lambda: len(receiver.accepted("slow")) == 8, "8 balance events")
        finally:
            sink.stop()
        got = receiver.accepted("slow")
        assert _versions(got, slow.account_id) == [1, 2]
        first_slow = next(i for i, r in enumerate(got) if r.data["accountId"] == str(
            slow.account_id))
        assert first_slow == 6, [r.data["accountId"] for r in got]
    finally:
        receiver.close()


def _dead_letters(hooks: WebhookLedger) -> list[dict[str, Any]]:
    return [codec().decode("webhook_dead_letter", m.value())
            for m in read_committed(hooks.ledger.bootstrap, hooks.topics.dead_letters, [0])]


def test_dead_letters_after_the_budget_then_replay_sends_the_same_ids(
        webhook_ledger: WebhookLedger, tmp_path: Path) -> None:
    """500s until the attempts run out, and a 400 at once: both are dead-lettered with the
    last status, later events of the key still go, and a replay delivers them again with
    the ids they had."""
    hooks = webhook_ledger
    customer = hooks.customers[0]
    healed = False

    def behaviour(_path: str, _id: str, _attempt: int, event: dict[str, Any]) -> Answer:
        if healed:
            return Answer(200)
        return {1: Answer(500), 2: Answer(400)}.get(event["data"]["version"], Answer(200))

    receiver = Receiver(behaviour)
    try:
        url, secret = receiver.endpoint("dl")
        config = write_config(tmp_path / "webhooks.yaml", [
            {"id": "dl", "url": url, "secret": secret, "events": ["balance.updated"],
             "accounts": [str(customer.account_id)]}],
            retry={**FAST_RETRY, "max_attempts": 3})
        sink = SinkThread(hooks.ledger.bootstrap, hooks.topics, config)
        try:
            for amount in ("1.00", "2.00", "3.00"):
                hooks.deposit(customer, amount)
            wait_until(lambda: len(receiver.accepted("dl")) == 1, "the third event")
            wait_until(lambda: len(_dead_letters(hooks)) == 2, "two dead letters")
        finally:
            sink.stop()
        assert _versions(receiver.accepted("dl"), customer.account_id) == [3]
        letters = _dead_letters(hooks)
        assert [(d["last_status"], d["attempts"]) for d in letters] == [(500, 3), (400, 1)]
        assert all(d["subscription_id"] == "dl" for d in letters)
        raw = b"".join(m.value() for m in read_committed(hooks.ledger.bootstrap,
                                                         hooks.topics.dead_letters, [0]))
        assert secret.removeprefix("whsec_").encode() not in raw
        healed = True
        replayed = run_cli("sink", "webhook", "replay", "--config", str(config),
                           "--subscription", "dl", "--from-dead-letters", *_kafka_args(hooks))
        assert replayed.returncode == 0, replayed.stderr
        assert secret not in replayed.stdout + replayed.stderr
        got = receiver.accepted("dl")
        assert _versions(got, customer.account_id) == [3, 1, 2]
        assert [r.webhook_id for r in got[1:]] == [d["webhook_id"] for d in letters]
        assert receiver.unverified == []
    finally:
        receiver.close()


def test_410_disables_the_subscription_until_it_is_enabled_again(
        webhook_ledger: WebhookLedger, tmp_path: Path) -> None:
    """A 410 stops the subscription and is remembered by a restarted sink; enabling it
    resumes from the event that got the 410."""
    hooks = webhook_ledger
    customer = hooks.customers[0]
    gone = True

    def behaviour(_path: str, _id: str, _attempt: int, _event: dict[str, Any]) -> Answer:
        return Answer(410) if gone else Answer(200)

    receiver = Receiver(behaviour)
    try:
        url, secret = receiver.endpoint("gone")
        config = write_config(tmp_path / "webhooks.yaml", [
            {"id": "gone", "url": url, "secret": secret, "events": ["balance.updated"],
             "accounts": [str(customer.account_id)]}])
        hooks.deposit(customer, "1.00")
        sink = SinkThread(hooks.ledger.bootstrap, hooks.topics, config)
        wait_until(lambda: not sink.running, "the sink to stop its only subscription")
        assert sink.stop() == {"gone": {}}
        again = run_cli("sink", "webhook", "run", "--config", str(config), *_kafka_args(hooks))
        assert again.returncode == 1
        assert "disabled" in again.stderr and "Traceback" not in again.stderr
        gone = False
        enabled = run_cli("sink", "webhook", "enable", "--config", str(config),
                          "--subscription", "gone", *_kafka_args(hooks))
        assert enabled.returncode == 0, enabled.stderr
        hooks.deposit(customer, "2.00")
        sink = SinkThread(hooks.ledger.bootstrap, hooks.topics, config)
        try:
            wait_until(lambda: len(receiver.accepted("gone")) == 2, "both events")
        finally:
            sink.stop()
        assert _versions(receiver.accepted("gone"), customer.account_id) == [1, 2]
    finally:
        receiver.close()


def test_replay_from_offset_and_from_time(webhook_ledger: WebhookLedger, receiver: Receiver,
                                          tmp_path: Path) -> None:
    """From offset 0 every event comes again with its id; from a time after the last
    record, nothing."""
    hooks = webhook_ledger
    url, secret = receiver.endpoint("again")
    config = write_config(tmp_path / "webhooks.yaml", [
        {"id": "again", "url": url, "secret": secret,
         "events": ["balance.updated", "transaction.posted"],
         "accounts": [str(c.account_id) for c in hooks.customers]}])
    for customer in hooks.customers:
        hooks.deposit(customer, "7.77")
    replayed = run_cli("sink", "webhook", "replay", "--config", str(config), "--subscription",
                       "again", "--from-offset", "0", *_kafka_args(hooks))
    assert replayed.returncode == 0, replayed.stderr
    first = receiver.accepted("again")
    assert len(first) == 8
    expected = set()
    for topic in (hooks.ledger.topics.balances, hooks.ledger.topics.transactions):
        for p in range(hooks.ledger.topics.partitions):
            for m in read_committed(hooks.ledger.bootstrap, topic, [p]):
                expected.add(webhook_id("again", topic, p, m.offset()))
    assert {r.webhook_id for r in first} <= expected
    replayed = run_cli("sink", "webhook", "replay", "--config", str(config), "--subscription",
                       "again", "--from-time", "2999-01-01T00:00:00", *_kafka_args(hooks))
    assert replayed.returncode == 0, replayed.stderr
    assert len(receiver.accepted("again")) == 8
    replayed = run_cli("sink", "webhook", "replay", "--config", str(config), "--subscription",
                       "again", "--from-time", "2000-01-01T00:00:00", *_kafka_args(hooks))
    assert replayed.returncode == 0, replayed.stderr
    second = receiver.accepted("again")[8:]
    assert sorted(r.webhook_id for r in second) == sorted(r.webhook_id for r in first)
    by_key: dict[str, list[int]] = defaultdict(list)
    for r in second:
        if r.type == "balance.updated":
            by_key[r.data["accountId"]].append(r.data["version"])
    assert all(v == [1] for v in by_key.values()) and len(by_key) == 4


def test_a_bad_config_exits_with_one_message(tmp_path: Path) -> None:
    """No traceback, no secret, exit status 1."""
    path = tmp_path / "webhooks.yaml"
    path.write_text("subscriptions:\n  - id: x\n    url: http://127.0.0.1:9/x\n"
                    "    secret: whsec_%%%topsecretvalue%%%\n    events: [balance.updated]\n")
    result = run_cli("sink", "webhook", "run", "--config", str(path),
                     "--bootstrap-servers", "127.0.0.1:9")
    assert result.returncode == 1
    assert result.stderr.startswith("ledger: error: ") and result.stderr.count("\n") == 1
    assert "topsecretvalue" not in result.stderr and "Traceback" not in result.stderr
