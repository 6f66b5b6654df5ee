"""Where the shell finds its broker and keeps its local files."""

import os
from pathlib import Path

from streams.errors import LedgerError


def state_root() -> Path:
    """Local runtime files: ``$LEDGER_STATE_DIR`` or ``~/.local/state/kafka-ledger``."""
    configured = os.environ.get("LEDGER_STATE_DIR")
    return Path(configured) if configured else Path.home() / ".local" / "state" / "kafka-ledger"


def local_kafka_home() -> Path:
    """The home of the cluster that ``ledger kafka start`` manages."""
    return state_root() / "kafka"


def default_state_dir(bootstrap: str, instance_id: str) -> Path:
    """Where a processor keeps its state unless told: with the local cluster when it runs on
    it (a fresh local cluster starts with fresh state), else under ``state_root()``."""
    from streams.local_kafka import LocalCluster

    cluster = LocalCluster.load(local_kafka_home())
    if cluster is not None and cluster.bootstrap_servers == bootstrap:
        return local_kafka_home() / "processors" / instance_id
    return state_root() / f"processor-{instance_id}"


def resolve_bootstrap(explicit: str | None) -> str:
    """``--bootstrap-servers``, else ``KAFKA_BOOTSTRAP_SERVERS``, else the local broker."""
    if explicit:
        return explicit
    from_env = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if from_env:
        return from_env
    from streams.local_kafka import LocalCluster

    cluster = LocalCluster.load(local_kafka_home())
    if cluster is None or not cluster.running_nodes():
        raise LedgerError(
            "no Kafka broker to talk to: pass --bootstrap-servers, set KAFKA_BOOTSTRAP_SERVERS, "
            "or start the local one with `ledger kafka start`"
        )
    return cluster.bootstrap_servers
