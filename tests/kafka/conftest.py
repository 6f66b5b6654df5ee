"""The secured cluster shared by the tests of secured clients and of ACLs."""

from collections.abc import Iterator

import pytest

from streams.local_kafka import start_cluster
from tests.kafka.certificates import make_broker_keystore, make_ca
from tests.kafka.secured import SecuredKafka


@pytest.fixture(scope="session")
def secured_kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecuredKafka]:
    """A 1-node cluster with a SASL_SSL listener, the StandardAuthorizer, and no users yet."""
    home = tmp_path_factory.mktemp("kafka-secured")
    ca = make_ca(home / "tls", "ledger-test-ca")
    try:
        cluster, _ = start_cluster(home / "kafka",
                                   keystore=make_broker_keystore(home / "tls", ca))
    except Exception as exc:
        pytest.fail(f"could not start the secured local Kafka: {exc}", pytrace=False)
    yield SecuredKafka(cluster, ca[0], home)
    cluster.stop()
