"""Kafka ACLs: each role of the ledger works with its ACLs and no more, and the broker refuses
the writes that would forge money or state.

Every principal here holds only what ``ledger kafka acls ROLE`` grants it (the authorizer
denies everything else), so a role that needed one more ACL would fail its part.
"""

import json
import time
import uuid
from pathlib import Path

import pytest
import yaml
from confluent_kafka import Consumer
from confluent_kafka.admin import AdminClient

from connectors.graphql_api import ApiProcess, run_tutorial
from ledger_core import tutorial
from schemas.codec import codec
from streams.client import LedgerClient
from streams.errors import LedgerError
from streams.offsets import end_offset
from streams.reading import read_committed
from streams.topics import Topics, ensure_topics
from tests.kafka.secured import SecuredKafka, User, ledger
from tests.sink_process import SinkProcess
from tests.streams.conftest import KafkaLedger
from tests.webhooks.receiver import Receiver

pytestmark = pytest.mark.kafka

PARTITIONS = 3


def _as(user: User, monkeypatch: pytest.MonkeyPatch) -> None:
    """Clients built from now on in this process, and processes started from it, are
    ``user``."""
    for name, value in user.environment().items():
        monkeypatch.setenv(name, value)


def test_each_role_works_with_exactly_its_acls(
    secured_kafka: SecuredKafka, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The processor, the GraphQL API (the whole tutorial), a producer of commands, the
    Parquet sink and the webhook sink, each as its own principal with only its role's
    ACLs."""
    topics = Topics(prefix=f"acl{uuid.uuid4().hex[:8]}", partitions=PARTITIONS)
    sink_group = f"{topics.prefix}.parquet-sink"
    users = {role: secured_kafka.user(f"{topics.prefix}-{role}")
             for role in ("processor", "api", "producer", "sink", "webhook-sink")}
    for role, user in users.items():
        secured_kafka.grant(role, user, topics, sink_group if role == "sink" else None)
    kafka_ledger = KafkaLedger(secured_kafka.bootstrap, topics, tmp_path)
    api = None
    try:
        _as(users["processor"], monkeypatch)
        kafka_ledger.add_processor()
        _as(users["api"], monkeypatch)
        api = ApiProcess(secured_kafka.bootstrap, topics.prefix, tmp_path / "api.log").start()
        balances = {b.code: b.normal for b in run_tutorial(api.url)}
        assert balances[tutorial.ERNIE.code] == "5.25"

        _as(users["producer"], monkeypatch)
        producer = kafka_ledger.client()
        result = producer.post(uuid.uuid4(), "ACH_CREDIT",
                               {**tutorial.DEPOSIT.params, "amount": "1.00"},
                               owner=tutorial.ERNIE.account_id)
        assert result.status == "POSTED", result
        producer.wait_converged()

        _as(users["sink"], monkeypatch)
        entries = [codec().decode("entry", m.value()) for m in
                   read_committed(secured_kafka.bootstrap, topics.entries, range(PARTITIONS))]
        assert len(entries) == 6  # three postings of two entries
        written = ledger("sink", "parquet", "run", "--until-end", "--out",
                         str(tmp_path / "warehouse"), "--bootstrap-servers",
                         secured_kafka.bootstrap, "--topic-prefix", topics.prefix,
                         "--json", env=users["sink"].environment())
        assert written.returncode == 0, written.stderr[-3000:]
        assert json.loads(written.stdout)["records"] > len(entries)

        receiver = Receiver()
        try:
            url, secret = receiver.endpoint("acl")
            config = tmp_path / "webhooks.yaml"
            config.write_text(yaml.safe_dump({"subscriptions": [{
                "id": "acl", "url": url, "secret": secret, "events": ["balance.updated"],
                "accounts": [str(tutorial.ERNIE.account_id)], "start": "earliest"}]}))
            webhooks = SinkProcess(["webhook", "run", "--config", str(config),
                                    "--bootstrap-servers", secured_kafka.bootstrap,
                                    "--topic-prefix", topics.prefix], tmp_path / "webhooks.log",
                                   users["webhook-sink"].environment()).start()
            deadline = time.monotonic() + 120
            while len(receiver.accepted("acl")) < 3 and time.monotonic() < deadline:
                assert webhooks.alive, webhooks.log_since_start()[-3000:]
                time.sleep(0.2)
            assert [r.data["version"] for r in receiver.accepted("acl")] == [1, 2, 3]
            assert webhooks.stop() == 0, webhooks.log_since_start()[-3000:]
        finally:
            receiver.close()
        logs = [p.log_since_start() for p in kafka_ledger.processors]
        logs.append(api.log_file.read_text())
        for user in users.values():
            assert all(user.password not in log for log in logs)
    finally:
        if api is not None:
            api.stop()
        for process in kafka_ledger.processors:
            process.stop()
        for client in kafka_ledger.clients:
            client.close()


def test_a_principal_that_may_not_write_commands_is_refused_clearly(
    secured_kafka: SecuredKafka,
) -> None:
    """A read-only sink's principal cannot post: ``ledger post`` says so in one line."""
    topics = Topics(prefix=f"acl{uuid.uuid4().hex[:8]}", partitions=PARTITIONS)
    _create_topics(secured_kafka, topics)
    reader = secured_kafka.user(f"{topics.prefix}-reader")
    secured_kafka.grant("sink", reader, topics, f"{topics.prefix}.warehouse")
    refused = ledger("post", "--tran-code", "ACH_CREDIT",
                     "--param", f"account={tutorial.ERNIE.account_id}", "--param", "amount=1.00",
                     "--param", "effective=2022-09-21", "--owner", str(tutorial.ERNIE.account_id),
                     "--bootstrap-servers", secured_kafka.bootstrap,
                     "--topic-prefix", topics.prefix, env=reader.environment())
    assert refused.returncode == 1, refused.stdout
    assert refused.stderr.startswith("ledger: error: Kafka refused"), refused.stderr
    assert f"may not write {topics.commands}" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert reader.password not in refused.stdout + refused.stderr


@pytest.mark.parametrize("role", ["producer", "api"])
def test_forged_writes_to_the_ledgers_own_topics_are_refused_by_the_broker(
    secured_kafka: SecuredKafka, monkeypatch: pytest.MonkeyPatch, role: str,
) -> None:
    """A leg that would credit an account, a catalog record that would lift a limit, a
    balance that a restart would restore: a producer or the API may write none of them."""
    topics = Topics(prefix=f"acl{uuid.uuid4().hex[:8]}", partitions=PARTITIONS)
    _create_topics(secured_kafka, topics)
    attacker = secured_kafka.user(f"{topics.prefix}-{role}")
    secured_kafka.grant(role, attacker, topics)
    forged = {topics.legs: b"a leg crediting 1,000", topics.catalog: b"a limit of -5,000",
              topics.balances: b"a balance of 1,000,000"}
    before = _ends(secured_kafka, forged)
    _as(attacker, monkeypatch)
    for topic, value in forged.items():
        client = LedgerClient(secured_kafka.bootstrap, topics, watch_results=False)
        try:
            client.send_raw(topic, b"key", value, 0)
            with pytest.raises(LedgerError, match=f"may not write {topic}"):
                client.flush(60)
        finally:
            client.close()
    monkeypatch.undo()
    assert _ends(secured_kafka, forged) == before


def _create_topics(secured_kafka: SecuredKafka, topics: Topics) -> None:
    ensure_topics(AdminClient({"bootstrap.servers": secured_kafka.admin_bootstrap}), topics)


def _ends(secured_kafka: SecuredKafka, topics: dict[str, bytes]) -> dict[str, int]:
    consumer = Consumer({"bootstrap.servers": secured_kafka.admin_bootstrap,
                         "group.id": f"ends-{uuid.uuid4()}"})
    try:
        return {topic: end_offset(consumer, topic, 0) for topic in topics}
    finally:
        consumer.close()
