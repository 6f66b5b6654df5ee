"""A local KRaft cluster of one or three nodes on loopback, started from Maven Central jars.

The cluster's description (ports, pids, cluster id) lives in ``<home>/cluster.json`` so that
``ledger kafka status`` and ``stop`` work from another process, and so a stopped cluster
restarts on the same ports: KRaft records the controller endpoints in its metadata.
"""

import json
import logging
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from confluent_kafka.admin import AdminClient
from confluent_kafka.admin._scram import (  # not re-exported by name for type checkers
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialUpsertion,
)

from streams.errors import LocalKafkaError
from streams.local_kafka import node
from streams.local_kafka.jars import KAFKA_VERSION, ensure_jars
from streams.local_kafka.java import require_java
from streams.local_kafka.node import NodeSpec
from streams.local_kafka.ports import free_ports, require_free

READY_TIMEOUT_S = 90.0
_QUIET = logging.getLogger("streams.local_kafka.quiet")
_QUIET.addHandler(logging.NullHandler())
_QUIET.propagate = False


@dataclass
class LocalCluster:
    """A handle on the nodes of one local cluster and their processes."""

    home: Path
    cluster_id: str
    nodes: list[NodeSpec]
    pids: dict[int, int] = field(default_factory=dict)
    keystore: Path | None = None

    @property
    def bootstrap_servers(self) -> str:
        """Comma-separated client listeners of every node."""
        return ",".join(spec.bootstrap for spec in self.nodes)

    @property
    def sasl_ssl_bootstrap_servers(self) -> str:
        """Comma-separated SASL_SSL listeners of every node (a cluster with a keystore)."""
        return ",".join(spec.sasl_ssl_bootstrap for spec in self.nodes)

    def add_scram_user(self, name: str, password: str) -> None:
        """Create or replace a SCRAM-SHA-512 user of the SASL_SSL listener."""
        config: dict[str, Any] = {"bootstrap.servers": self.bootstrap_servers, "logger": _QUIET}
        admin = AdminClient(config)
        upsert = UserScramCredentialUpsertion(
            name, ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 8192), password.encode())
        for future in admin.alter_user_scram_credentials([upsert]).values():
            future.result()

    def spec(self, node_id: int) -> NodeSpec:
        """The node with id ``node_id``."""
        return next(spec for spec in self.nodes if spec.node_id == node_id)

    def running_nodes(self) -> list[int]:
        """Ids of the nodes whose process is alive."""
        return [nid for nid, pid in self.pids.items() if node.is_alive(pid)]

    def start(self, timeout_s: float = READY_TIMEOUT_S) -> float:
        """Start every node that is not running and wait until all are ready; return seconds."""
        started = time.monotonic()
        java, libs = require_java(), ensure_jars()
        for spec in self.nodes:
            if spec.node_id not in self.running_nodes():
                require_free(spec.broker_port)
                require_free(spec.controller_port)
                self.pids[spec.node_id] = node.launch(java, libs, spec)
        self.save()
        self.wait_ready(len(self.nodes), timeout_s)
        return time.monotonic() - started

    def wait_ready(self, brokers: int, timeout_s: float = READY_TIMEOUT_S) -> None:
        """Block until ``brokers`` brokers answer a metadata request; fail fast if one exits."""
        deadline = time.monotonic() + timeout_s
        config: dict[str, Any] = {"bootstrap.servers": self.bootstrap_servers, "logger": _QUIET}
        admin = AdminClient(config)
        while True:
            for nid, pid in self.pids.items():
                if not node.is_alive(pid):
                    raise LocalKafkaError(self._exit_report(nid))
            try:
                if len(admin.list_topics(timeout=1).brokers) >= brokers:
                    return
            except Exception:  # the broker is not answering yet; keep waiting
                time.sleep(0.1)
            if time.monotonic() > deadline:
                raise LocalKafkaError(
                    f"Kafka was not ready after {timeout_s:.0f}s. Last lines of node "
                    f"{self.nodes[0].node_id}'s log ({self.nodes[0].log_file}):\n"
                    + node.log_tail(self.nodes[0])
                )

    def _exit_report(self, node_id: int) -> str:
        spec = self.spec(node_id)
        tail = node.log_tail(spec)
        reason = ("a port it needs is already taken"
                  if "Address already in use" in tail else "it exited during start-up")
        return (f"Kafka node {node_id} did not start: {reason}. Last lines of its log "
                f"({spec.log_file}):\n{tail}")

    def stop(self) -> None:
        """Stop every node: SIGTERM together (a clean shutdown), SIGKILL any that hang."""
        node.terminate_all(list(self.pids.values()))
        self.pids.clear()
        self.save()

    def kill_node(self, node_id: int) -> None:
        """SIGKILL one node, as a crash would (for fault tests)."""
        node.kill(self.pids.pop(node_id))
        self.save()

    def restart_node(self, node_id: int, timeout_s: float = READY_TIMEOUT_S) -> None:
        """Start a stopped or killed node again and wait until the cluster has every broker."""
        java, libs = require_java(), ensure_jars()
        self.pids[node_id] = node.launch(java, libs, self.spec(node_id))
        self.save()
        self.wait_ready(len(self.nodes), timeout_s)

    def save(self) -> None:
        """Write the cluster's description to ``cluster.json``."""
        data = {
            "kafka_version": KAFKA_VERSION,
            "cluster_id": self.cluster_id,
            "bootstrap_servers": self.bootstrap_servers,
            "nodes": [{"node_id": s.node_id, "broker_port": s.broker_port,
                       "controller_port": s.controller_port, "home": str(s.home),
                       "sasl_ssl_port": s.sasl_ssl_port}
                      for s in self.nodes],
            "pids": {str(nid): pid for nid, pid in self.pids.items()},
            "keystore": None if self.keystore is None else str(self.keystore),
        }
        (self.home / "cluster.json").write_text(json.dumps(data, indent=2) + "\n")

    @classmethod
    def load(cls, home: Path) -> "LocalCluster | None":
        """The cluster described in ``home``, or None when there is none."""
        path = home / "cluster.json"
        if not path.exists():
            return None
        data = json.loads(path.read_text())
        specs = [NodeSpec(n["node_id"], n["broker_port"], n["controller_port"], Path(n["home"]),
                          n.get("sasl_ssl_port"))
                 for n in data["nodes"]]
        pids = {int(nid): pid for nid, pid in data["pids"].items()}
        keystore = data.get("keystore")
        return cls(home, data["cluster_id"], specs, pids,
                   None if keystore is None else Path(keystore))


def create_cluster(home: Path, nodes: int = 1, port: int | None = None,
                   keystore: Path | None = None) -> LocalCluster:
    """Lay out and format a new cluster of ``nodes`` nodes under ``home`` (not started);
    with ``keystore`` (PEM key and certificate chain) every node also has a SASL_SSL
    listener."""
    if nodes not in (1, 3):
        raise LocalKafkaError(f"--nodes must be 1 or 3, not {nodes}")
    java, libs = require_java(), ensure_jars()
    if port is not None:
        require_free(port)
    per_node = 2 if keystore is None else 3
    ports = free_ports(per_node * nodes)
    if port is not None:
        ports[0] = port
    specs = [NodeSpec(i + 1, ports[per_node * i], ports[per_node * i + 1], home / f"node-{i + 1}",
                      None if keystore is None else ports[per_node * i + 2])
             for i in range(nodes)]
    home.mkdir(parents=True, exist_ok=True)
    for spec in specs:
        node.write_config(spec, specs, keystore)
    cluster_id = node.random_cluster_id(java, libs)
    # Each format is a JVM start; three of them side by side save seconds.
    with ThreadPoolExecutor(max_workers=nodes) as pool:
        list(pool.map(lambda spec: node.format_storage(java, libs, spec, cluster_id,
                                                       standalone=nodes == 1), specs))
    cluster = LocalCluster(home, cluster_id, specs, keystore=keystore)
    cluster.save()
    return cluster


def start_cluster(home: Path, nodes: int = 1, port: int | None = None,
                  fresh: bool = False, keystore: Path | None = None
                  ) -> tuple[LocalCluster, float]:
    """Start the cluster under ``home`` (creating it if needed); return it and its start time.

    A cluster that is already running is returned as it is. A new cluster whose freshly picked
    ports were taken in the meantime is laid out again once with other ports.
    """
    existing = LocalCluster.load(home)
    if existing is not None and fresh:
        existing.stop()
        shutil.rmtree(home)
        existing = None
    if existing is not None:
        if len(existing.nodes) != nodes:
            raise LocalKafkaError(
                f"a {len(existing.nodes)}-node cluster already lives in {home}; stop it and "
                f"start with --fresh to replace it with a {nodes}-node one"
            )
        if len(existing.running_nodes()) == nodes:
            return existing, 0.0
        return existing, existing.start()
    for attempt in range(2):
        started = time.monotonic()
        cluster = create_cluster(home, nodes, port, keystore)
        try:
            cluster.start()
            return cluster, time.monotonic() - started
        except LocalKafkaError as exc:
            cluster.stop()
            if attempt == 1 or port is not None or "already taken" not in str(exc):
                raise
            shutil.rmtree(home)
    raise AssertionError("unreachable")
