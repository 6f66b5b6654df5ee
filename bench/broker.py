"""The benchmarks' Kafka: a cluster named by KAFKA_BOOTSTRAP_SERVERS, or a local KRaft node
of their own under ``var/bench/kafka`` (``LEDGER_BENCH_HOME`` moves it), never another
user's broker. A broker the benchmarks started is stopped when they end."""

import contextlib
import os
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from streams import topics as ledger_topics
from streams.kafka_config import kafka_config
from streams.local_kafka import LocalCluster, start_cluster

REPO = Path(__file__).resolve().parent.parent
BENCH_HOME = Path(os.environ.get("LEDGER_BENCH_HOME", REPO / "var" / "bench"))


@contextlib.contextmanager
def broker(keep: bool = False) -> Iterator[str]:
    """Bootstrap servers of the benchmarks' broker for the duration of the block."""
    configured = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if configured:
        yield configured
        return
    home = BENCH_HOME / "kafka"
    existing = LocalCluster.load(home)
    was_running = existing is not None and bool(existing.running_nodes())
    cluster, _seconds = start_cluster(home, nodes=1)
    try:
        yield cluster.bootstrap_servers
    finally:
        if not was_running and not keep:
            cluster.stop()


def fresh_prefix(name: str) -> str:
    """A topic prefix no earlier run used."""
    return f"bench-{name}-{uuid.uuid4().hex[:8]}"


def create_topics(bootstrap: str, names: list[str], partitions: int,
                  compacted: bool = False) -> None:
    """Create topics with ``partitions`` partitions each (delete policy unless compacted)."""
    admin = AdminClient(kafka_config(bootstrap))
    config = {"cleanup.policy": "compact"} if compacted else {}
    ledger_topics.create_topics(admin, [NewTopic(n, partitions, 1, config=config) for n in names])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        known = admin.list_topics(timeout=10).topics
        if all(n in known and len(known[n].partitions) == partitions
               and all(pm.leader >= 0 for pm in known[n].partitions.values()) for n in names):
            return
        time.sleep(0.1)


def delete_topics(bootstrap: str, prefix: str) -> None:
    """Delete every topic whose name contains ``prefix`` (a run's own topics)."""
    admin = AdminClient(kafka_config(bootstrap))
    names = [n for n in admin.list_topics(timeout=15).topics if prefix in n]
    if names:
        for future in admin.delete_topics(names, operation_timeout=60).values():
            with contextlib.suppress(Exception):
                future.result()


def stop_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit, so a stopped benchmark still stops what it started."""
    def _exit(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, _exit)
