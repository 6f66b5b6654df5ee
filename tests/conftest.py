"""Fixtures for tests that need a real Kafka broker.

Where the broker comes from, in order:
1. ``KAFKA_BOOTSTRAP_SERVERS``: an existing cluster the suite must be able to reach;
2. ``LEDGER_TEST_KAFKA=testcontainers``: the apache/kafka image, on machines with Docker;
3. otherwise a single KRaft node the project starts from Maven Central jars.

A test that needs Kafka and cannot get it fails with the reason; it never skips.
"""

import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from confluent_kafka.admin import AdminClient, NewTopic

from streams.local_kafka import LocalCluster, start_cluster
from streams.local_kafka.node import log_tail
from streams.topics import create_topics

KAFKA_IMAGE = "apache/kafka:4.3.1"


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Bootstrap servers of a running, reachable Kafka for the whole test session."""
    configured = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if configured:
        _require_reachable(configured)
        yield configured
    elif os.environ.get("LEDGER_TEST_KAFKA") == "testcontainers":
        yield from _testcontainers_kafka()
    else:
        cluster = _start_local(tmp_path_factory.mktemp("kafka-1"), nodes=1)
        _session_cluster.append(cluster)
        yield cluster.bootstrap_servers
        _session_cluster.clear()
        cluster.stop()


# The session's local broker, while it runs: every later Kafka test depends on it.
_session_cluster: list[LocalCluster] = []


@pytest.fixture(autouse=True)
def _session_broker_outlives_each_test(request: pytest.FixtureRequest) -> Iterator[None]:
    """Stop the suite, naming the test and quoting the broker's log, when the session's
    broker has exited: every Kafka test after it would only wait for a broker that is gone."""
    yield
    for cluster in _session_cluster:
        if not cluster.running_nodes():
            spec = cluster.nodes[0]
            pytest.exit(f"the session's Kafka broker exited during {request.node.nodeid}. "
                        f"Last lines of its log ({spec.log_file}):\n{log_tail(spec, 40)}",
                        returncode=1)


@pytest.fixture(scope="module")
def kafka_cluster3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    """A local 3-node KRaft cluster (replication 3, min ISR 2) whose nodes tests may kill.
    Its three JVMs stop with the module that used them, not with the session."""
    cluster = _start_local(tmp_path_factory.mktemp("kafka-3"), nodes=3)
    yield cluster
    cluster.stop()


@pytest.fixture
def make_topic(kafka_bootstrap: str) -> Callable[..., str]:
    """Create a uniquely named topic on the session broker and return its name."""
    return topic_factory(kafka_bootstrap)


def topic_factory(bootstrap: str) -> Callable[..., str]:
    """A function that creates uniquely named topics on the cluster at ``bootstrap``."""
    admin = AdminClient({"bootstrap.servers": bootstrap})

    def create(partitions: int = 1, replication: int = 1, **config: str) -> str:
        name = f"test-{uuid.uuid4().hex[:12]}"
        create_topics(admin, [NewTopic(name, partitions, replication, config=config)])
        _wait_for_leaders(admin, name, partitions)
        return name

    return create


def _wait_for_leaders(admin: AdminClient, topic: str, partitions: int) -> None:
    """Creation returns before every broker's metadata shows the topic; wait until it does."""
    deadline = time.monotonic() + 30
    while True:
        found = admin.list_topics(topic, timeout=10).topics.get(topic)
        if found is not None and found.error is None and len(found.partitions) == partitions \
                and all(p.leader >= 0 for p in found.partitions.values()):
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"topic {topic} has no leader for every partition after 30s")
        time.sleep(0.1)


def _start_local(home: Path, nodes: int) -> LocalCluster:
    try:
        cluster, _ = start_cluster(home, nodes=nodes)
    except Exception as exc:
        pytest.fail(f"could not start a local {nodes}-node Kafka: {exc}", pytrace=False)
    return cluster


def _require_reachable(bootstrap: str) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    try:
        admin.list_topics(timeout=15)
    except Exception as exc:
        pytest.fail(f"KAFKA_BOOTSTRAP_SERVERS={bootstrap} is not reachable: {exc}", pytrace=False)


def _testcontainers_kafka() -> Iterator[str]:
    # The apache/kafka image runs a single combined KRaft node advertised on localhost:9092.
    try:
        from testcontainers.core.container import DockerContainer
        from testcontainers.core.waiting_utils import wait_for_logs

        container = DockerContainer(KAFKA_IMAGE).with_bind_ports(9092, 9092)
        container.start()
        wait_for_logs(container, "Kafka Server started", timeout=90)
    except Exception as exc:
        pytest.fail(f"LEDGER_TEST_KAFKA=testcontainers but no Kafka container: {exc}",
                    pytrace=False)
    try:
        yield "localhost:9092"
    finally:
        container.stop()
