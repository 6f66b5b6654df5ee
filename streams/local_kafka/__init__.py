"""Local Apache Kafka for development and tests: KRaft nodes run from Maven Central jars."""

from streams.local_kafka.cluster import LocalCluster, create_cluster, start_cluster
from streams.local_kafka.jars import KAFKA_VERSION, ensure_jars

__all__ = ["KAFKA_VERSION", "LocalCluster", "create_cluster", "ensure_jars", "start_cluster"]
