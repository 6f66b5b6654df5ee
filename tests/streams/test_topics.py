"""Topics are created explicitly, and a wrong existing layout stops the processor."""

import subprocess
import sys
import uuid

from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic  # type: ignore[attr-defined]

from streams.topics import Topics, create_topics
from tests.streams.conftest import KafkaLedger


def test_the_processor_creates_every_topic_with_its_layout(kafka_ledger: KafkaLedger) -> None:
    """Each topic exists with the spec's partition count and cleanup policy."""
    kafka_ledger.add_processor()
    admin = AdminClient({"bootstrap.servers": kafka_ledger.bootstrap})
    metadata = admin.list_topics(timeout=10)
    specs = kafka_ledger.topics.specs()
    for spec in specs:
        assert len(metadata.topics[spec.name].partitions) == spec.partitions, spec.name
    resources = [ConfigResource(ConfigResource.Type.TOPIC, s.name) for s in specs]
    policies = {resource.name: future.result()["cleanup.policy"].value
                for resource, future in admin.describe_configs(resources).items()}
    assert policies == {s.name: s.config["cleanup.policy"] for s in specs}


def test_a_topic_with_the_wrong_partition_count_stops_the_processor(
    kafka_bootstrap: str,
) -> None:
    """`ledger processor run` exits 1 naming the topic, without a traceback."""
    topics = Topics(prefix=f"w{uuid.uuid4().hex[:10]}", partitions=4)
    admin = AdminClient({"bootstrap.servers": kafka_bootstrap})
    create_topics(admin, [NewTopic(topics.entries, 2, 1)])
    proc = subprocess.run(
        [sys.executable, "-m", "ledger_cli", "processor", "run", "--bootstrap-servers",
         kafka_bootstrap, "--topic-prefix", topics.prefix, "--partitions", "4",
         "--instance-id", "wrong"], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 1
    assert f"{topics.entries} has 2 partitions, the ledger needs 4" in proc.stderr
    assert "Traceback" not in proc.stderr
