"""The ledger on a secured Kafka: SASL_SSL with SCRAM-SHA-512, a CA made by the test.

Every client of the ledger reaches the secured listener through ``--kafka-config`` and
``LEDGER_KAFKA_<PROPERTY>`` variables; a wrong password, an untrusted certificate or a
broker that is not there each end a command with one clear line, and no secret is printed.
"""

import uuid
from pathlib import Path

import pytest

from ledger_core import tutorial
from streams.local_kafka.ports import free_ports
from streams.topics import Topics
from tests.kafka.certificates import make_ca
from tests.kafka.secured import SecuredKafka, ledger
from tests.streams.conftest import KafkaLedger

pytestmark = pytest.mark.kafka


def test_the_tutorial_runs_end_to_end_through_sasl_ssl(
    secured_kafka: SecuredKafka, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The processor (``--kafka-config``), the client and ``ledger balance`` all reach the
    ledger over SCRAM-SHA-512 and TLS, and the password appears in no log or output."""
    topics = Topics(prefix=f"sec{uuid.uuid4().hex[:8]}", partitions=3)
    user = secured_kafka.user("ledger-app")
    for role in ("processor", "api"):
        secured_kafka.grant(role, user, topics)
    for name, value in user.environment().items():
        monkeypatch.setenv(name, value)
    kafka_ledger = KafkaLedger(secured_kafka.bootstrap, topics, tmp_path)
    try:
        processor = kafka_ledger.add_processor(kafka_config=str(user.properties))
        client = kafka_ledger.client()
        for entity in (tutorial.JOURNAL, *tutorial.ACCOUNTS, *tutorial.TRAN_CODES):
            assert client.create(entity).status == "APPLIED"
        for posting in tutorial.POSTINGS:
            result = client.post(posting.transaction_id, posting.tran_code, posting.params,
                                 owner=tutorial.ERNIE.account_id)
            assert result.status == "POSTED", result
        client.wait_converged()
        assert [str(b.settled.normal_balance)
                for b in client.balances(tutorial.ASSETS.account_id)] == ["5.25"]
        environment = user.environment()
        del environment["LEDGER_KAFKA_CONFIG"]
        shown = ledger("balance", str(tutorial.ERNIE.account_id), "--json",
                       "--bootstrap-servers", secured_kafka.bootstrap,
                       "--topic-prefix", topics.prefix, "--kafka-config", str(user.properties),
                       env=environment)
        assert shown.returncode == 0, shown.stderr
        assert '"5.25"' in shown.stdout
        for text in (shown.stdout, shown.stderr, processor.log_since_start()):
            assert user.password not in text
    finally:
        for process in kafka_ledger.processors:
            process.stop()
        for client in kafka_ledger.clients:
            client.close()


def test_a_wrong_password_is_one_clear_line_without_the_password(
    secured_kafka: SecuredKafka,
) -> None:
    """librdkafka would retry the login for ever; the command says Kafka refused it."""
    user = secured_kafka.user("reader")
    wrong = "not-" + user.password
    refused = ledger("balance", str(tutorial.ERNIE.account_id), "--bootstrap-servers",
                     secured_kafka.bootstrap, env=user.environment(password=wrong))
    assert refused.returncode == 1
    assert refused.stderr.startswith("ledger: error: Kafka refused the login"), refused.stderr
    assert "Traceback" not in refused.stderr
    assert wrong not in refused.stdout + refused.stderr


def test_an_untrusted_broker_certificate_is_one_clear_line(
    secured_kafka: SecuredKafka, tmp_path: Path,
) -> None:
    """A client that trusts another CA refuses the broker's certificate."""
    other_ca, _ = make_ca(tmp_path, "some-other-ca")
    user = secured_kafka.user("wary", ca=other_ca)
    refused = ledger("processor", "run", "--bootstrap-servers", secured_kafka.bootstrap,
                     "--kafka-config", str(user.properties), "--state-dir", str(tmp_path / "s"),
                     env=user.environment())
    assert refused.returncode == 1
    assert refused.stderr.startswith("ledger: error: the TLS connection to Kafka failed"), \
        refused.stderr
    assert "certificate verify failed" in refused.stderr
    assert user.password not in refused.stdout + refused.stderr


def test_a_broker_that_is_not_there_is_one_clear_line(secured_kafka: SecuredKafka) -> None:
    """Nothing listens on the port: the command gives up with the reason instead of hanging."""
    user = secured_kafka.user("lost")
    nowhere = f"127.0.0.1:{free_ports(1)[0]}"
    refused = ledger("balance", str(tutorial.ERNIE.account_id), "--bootstrap-servers",
                     nowhere, env=user.environment())
    assert refused.returncode == 1
    assert refused.stderr.startswith(f"ledger: error: no Kafka broker answered at {nowhere}"), \
        refused.stderr
    assert "Connection refused" in refused.stderr
