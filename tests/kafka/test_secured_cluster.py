"""The ledger on a secured Kafka: SASL_SSL with SCRAM-SHA-512, a CA made by the test.

The local broker gets a second listener, SASL_SSL, with a broker certificate signed by a CA
this test creates. Every client of the ledger reaches it through ``--kafka-config`` and
``LEDGER_KAFKA_<PROPERTY>`` variables; a wrong password, an untrusted certificate or a
broker that is not there each end a command with one clear line, and no secret is printed.
"""

import os
import secrets
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger_core import tutorial
from streams.local_kafka import LocalCluster, start_cluster
from streams.local_kafka.ports import free_ports
from streams.topics import Topics
from tests.kafka.certificates import make_broker_keystore, make_ca
from tests.streams.conftest import KafkaLedger

pytestmark = pytest.mark.kafka

USER = "ledger-app"
# A bound on a command that must fail fast; a hang would otherwise hold the suite.
COMMAND_BOUND_S = 120


class Secured:
    """The secured cluster, its CA, the user's password and a client properties file."""

    def __init__(self, cluster: LocalCluster, ca: Path, password: str, home: Path) -> None:
        self.cluster = cluster
        self.ca = ca
        self.password = password
        self.home = home
        self.bootstrap = cluster.sasl_ssl_bootstrap_servers
        self.properties = self.properties_file("client.properties", ca)

    def properties_file(self, name: str, ca: Path) -> Path:
        """A properties file with everything but the password, which the environment gives."""
        path = self.home / name
        path.write_text("# the ledger's client settings for the secured test cluster\n"
                        "security.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-512\n"
                        f"sasl.username={USER}\nssl.ca.location={ca}\n")
        return path


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Secured]:
    """A 1-node cluster with a SASL_SSL listener and one SCRAM user."""
    home = tmp_path_factory.mktemp("kafka-secured")
    ca = make_ca(home / "tls", "ledger-test-ca")
    try:
        cluster, _ = start_cluster(home / "kafka", keystore=make_broker_keystore(home / "tls", ca))
    except Exception as exc:
        pytest.fail(f"could not start the secured local Kafka: {exc}", pytrace=False)
    password = secrets.token_urlsafe(18)
    cluster.add_scram_user(USER, password)
    yield Secured(cluster, ca[0], password, home)
    cluster.stop()


def _ledger(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ledger_cli", *args], capture_output=True,
                          text=True, env=env, timeout=COMMAND_BOUND_S, check=False)


def _environment(password: str) -> dict[str, str]:
    return {**os.environ, "LEDGER_KAFKA_SASL_PASSWORD": password}


def test_the_tutorial_runs_end_to_end_through_sasl_ssl(
    secured: Secured, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The processor (``--kafka-config``), the client and ``ledger balance`` all reach the
    ledger over SCRAM-SHA-512 and TLS, and the password appears in no log or output."""
    monkeypatch.setenv("LEDGER_KAFKA_CONFIG", str(secured.properties))
    monkeypatch.setenv("LEDGER_KAFKA_SASL_PASSWORD", secured.password)
    ledger = KafkaLedger(secured.bootstrap, Topics(prefix=f"sec{uuid.uuid4().hex[:8]}",
                                                   partitions=3), tmp_path)
    try:
        processor = ledger.add_processor(kafka_config=str(secured.properties))
        client = ledger.client()
        for entity in (tutorial.JOURNAL, *tutorial.ACCOUNTS, *tutorial.TRAN_CODES):
            assert client.create(entity).status == "APPLIED"
        for posting in tutorial.POSTINGS:
            result = client.post(posting.transaction_id, posting.tran_code, posting.params,
                                 owner=tutorial.ERNIE.account_id)
            assert result.status == "POSTED", result
        client.wait_converged()
        assert [str(b.settled.normal_balance)
                for b in client.balances(tutorial.ASSETS.account_id)] == ["5.25"]
        monkeypatch.delenv("LEDGER_KAFKA_CONFIG")
        shown = _ledger("balance", str(tutorial.ERNIE.account_id), "--json",
                        "--bootstrap-servers", secured.bootstrap,
                        "--topic-prefix", ledger.topics.prefix,
                        "--kafka-config", str(secured.properties),
                        env=_environment(secured.password))
        assert shown.returncode == 0, shown.stderr
        assert '"5.25"' in shown.stdout
        for text in (shown.stdout, shown.stderr, processor.log_since_start()):
            assert secured.password not in text
    finally:
        for process in ledger.processors:
            process.stop()
        for client in ledger.clients:
            client.close()


def test_a_wrong_password_is_one_clear_line_without_the_password(secured: Secured) -> None:
    """librdkafka would retry the login for ever; the command says Kafka refused it."""
    wrong = "not-" + secured.password
    refused = _ledger("balance", str(tutorial.ERNIE.account_id), "--bootstrap-servers",
                      secured.bootstrap, "--kafka-config", str(secured.properties),
                      env=_environment(wrong))
    assert refused.returncode == 1
    assert refused.stderr.startswith("ledger: error: Kafka refused the login"), refused.stderr
    assert "Traceback" not in refused.stderr
    assert wrong not in refused.stdout + refused.stderr


def test_an_untrusted_broker_certificate_is_one_clear_line(
    secured: Secured, tmp_path: Path,
) -> None:
    """A client that trusts another CA refuses the broker's certificate."""
    other_ca, _ = make_ca(tmp_path, "some-other-ca")
    properties = secured.properties_file("other-ca.properties", other_ca)
    refused = _ledger("processor", "run", "--bootstrap-servers", secured.bootstrap,
                      "--kafka-config", str(properties), "--state-dir", str(tmp_path / "s"),
                      env=_environment(secured.password))
    assert refused.returncode == 1
    assert refused.stderr.startswith("ledger: error: the TLS connection to Kafka failed"), \
        refused.stderr
    assert "certificate verify failed" in refused.stderr
    assert secured.password not in refused.stdout + refused.stderr


def test_a_broker_that_is_not_there_is_one_clear_line(secured: Secured) -> None:
    """Nothing listens on the port: the command gives up with the reason instead of hanging."""
    nowhere = f"127.0.0.1:{free_ports(1)[0]}"
    refused = _ledger("balance", str(tutorial.ERNIE.account_id), "--bootstrap-servers",
                      nowhere, "--kafka-config", str(secured.properties),
                      env=_environment(secured.password))
    assert refused.returncode == 1
    assert refused.stderr.startswith(f"ledger: error: no Kafka broker answered at {nowhere}"), \
        refused.stderr
    assert "Connection refused" in refused.stderr
