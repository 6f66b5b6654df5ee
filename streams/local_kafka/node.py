"""One KRaft node (broker and controller in one JVM): its settings, its process, its log.

Every setting that differs from Kafka's defaults is listed in ``docs/local-kafka.md`` with the
reason for it; keep the two in step.
"""

import contextlib
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from streams.errors import LocalKafkaError

HEAP = "512m"
STOP_GRACE_S = 30.0

_LOG4J2 = """status = warn
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = ${sys:kafka.logs.dir}/server.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
logger.request.name = kafka.request.logger
logger.request.level = WARN
"""


@dataclass(frozen=True)
class NodeSpec:
    """Where one node listens and keeps its data."""

    node_id: int
    broker_port: int
    controller_port: int
    home: Path
    # A second client listener, SASL_SSL with SCRAM-SHA-512, when the cluster has a keystore:
    # the shape of a managed or bank cluster, for the tests of secured clients.
    sasl_ssl_port: int | None = None

    @property
    def bootstrap(self) -> str:
        """The node's client listener."""
        return f"127.0.0.1:{self.broker_port}"

    @property
    def sasl_ssl_bootstrap(self) -> str:
        """The node's SASL_SSL listener."""
        assert self.sasl_ssl_port is not None, "the node has no SASL_SSL listener"
        return f"127.0.0.1:{self.sasl_ssl_port}"

    @property
    def voter(self) -> str:
        """The node as a controller quorum voter (``id@host:port``)."""
        return f"{self.node_id}@127.0.0.1:{self.controller_port}"

    @property
    def log_file(self) -> Path:
        """The broker's own log."""
        return self.home / "logs" / "server.log"

    @property
    def properties_file(self) -> Path:
        """The node's ``server.properties``."""
        return self.home / "server.properties"


def node_settings(spec: NodeSpec, peers: list[NodeSpec], keystore: Path | None = None
                  ) -> dict[str, str]:
    """The broker settings of ``spec`` in a cluster of ``peers`` (1 or 3 nodes); with
    ``keystore`` (PEM: the broker's private key, then its certificate chain), also a
    SASL_SSL listener."""
    replicas = str(min(len(peers), 3))
    min_isr = "2" if len(peers) >= 3 else "1"
    settings = {
        "process.roles": "broker,controller",
        "node.id": str(spec.node_id),
        "listeners": f"PLAINTEXT://{spec.bootstrap},CONTROLLER://127.0.0.1:{spec.controller_port}",
        "advertised.listeners": f"PLAINTEXT://{spec.bootstrap}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        "log.dirs": str(spec.home / "data"),
        "default.replication.factor": replicas,
        "min.insync.replicas": min_isr,
        "offsets.topic.replication.factor": replicas,
        "transaction.state.log.replication.factor": replicas,
        "transaction.state.log.min.isr": min_isr,
        "share.coordinator.state.topic.replication.factor": replicas,
        "share.coordinator.state.topic.min.isr": min_isr,
        "offsets.topic.num.partitions": "8",
        "transaction.state.log.num.partitions": "8",
        "group.initial.rebalance.delay.ms": "0",
        "log.cleaner.dedupe.buffer.size": str(2 * 1024 * 1024),
        "transaction.max.timeout.ms": str(15 * 60 * 1000),
        "auto.create.topics.enable": "false",
    }
    if keystore is not None and spec.sasl_ssl_port is not None:
        settings.update(_sasl_ssl_settings(spec, keystore))
    if len(peers) == 1:
        settings["controller.quorum.bootstrap.servers"] = f"127.0.0.1:{spec.controller_port}"
    else:
        settings["controller.quorum.voters"] = ",".join(peer.voter for peer in peers)
        settings["broker.session.timeout.ms"] = "4000"
        settings["broker.heartbeat.interval.ms"] = "500"
    return settings


def _sasl_ssl_settings(spec: NodeSpec, keystore: Path) -> dict[str, str]:
    # Brokers and the controller keep talking PLAINTEXT to each other on loopback; only the
    # clients' second listener is secured. SCRAM users are added once the node runs. The
    # StandardAuthorizer refuses every principal what no ACL grants it, except the PLAINTEXT
    # listener's (ANONYMOUS): that loopback door is the administrator's, which creates users
    # and ACLs.
    listener = f"SASL_SSL://{spec.sasl_ssl_bootstrap}"
    return {
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "super.users": "User:ANONYMOUS",
        "listeners": f"PLAINTEXT://{spec.bootstrap},{listener},"
                     f"CONTROLLER://127.0.0.1:{spec.controller_port}",
        "advertised.listeners": f"PLAINTEXT://{spec.bootstrap},{listener}",
        "listener.security.protocol.map":
            "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL",
        "sasl.enabled.mechanisms": "SCRAM-SHA-512",
        "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config":
            "org.apache.kafka.common.security.scram.ScramLoginModule required;",
        "listener.name.sasl_ssl.ssl.keystore.type": "PEM",
        "listener.name.sasl_ssl.ssl.keystore.location": str(keystore),
    }


def write_config(spec: NodeSpec, peers: list[NodeSpec], keystore: Path | None = None) -> None:
    """Write the node's ``server.properties`` and Log4j 2 configuration."""
    (spec.home / "logs").mkdir(parents=True, exist_ok=True)
    lines = [f"{key}={value}" for key, value in node_settings(spec, peers, keystore).items()]
    spec.properties_file.write_text("\n".join(lines) + "\n")
    (spec.home / "log4j2.properties").write_text(_LOG4J2)


def format_storage(
    java: str, libs: Path, spec: NodeSpec, cluster_id: str, standalone: bool
) -> None:
    """Format the node's log dir for KRaft; a node already formatted is left as it is."""
    command = [java, "-cp", f"{libs}/*", *_log_flags(spec), "kafka.tools.StorageTool", "format",
               "-t", cluster_id, "-c", str(spec.properties_file), "--ignore-formatted"]
    if standalone:
        command.append("--standalone")
    proc = subprocess.run(command, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise LocalKafkaError(
            f"formatting the storage of node {spec.node_id} failed:\n"
            + (proc.stderr or proc.stdout).strip()[-1500:]
        )


def random_cluster_id(java: str, libs: Path) -> str:
    """Ask Kafka's StorageTool for a new cluster id."""
    proc = subprocess.run([java, "-cp", f"{libs}/*", "kafka.tools.StorageTool", "random-uuid"],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise LocalKafkaError("could not create a cluster id: " + proc.stderr.strip()[-500:])
    return proc.stdout.strip().splitlines()[-1]


def launch(java: str, libs: Path, spec: NodeSpec) -> int:
    """Start the node's JVM in its own session (it outlives the caller) and return its pid."""
    command = [
        java, f"-Xms{HEAP}", f"-Xmx{HEAP}", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20",
        "-XX:+ExitOnOutOfMemoryError", "-Djava.awt.headless=true", *_log_flags(spec),
        "-cp", f"{libs}/*", "kafka.Kafka", str(spec.properties_file),
    ]
    with open(spec.home / "logs" / "stdout.log", "ab") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    return proc.pid


def _log_flags(spec: NodeSpec) -> list[str]:
    return [f"-Dlog4j2.configurationFile={spec.home / 'log4j2.properties'}",
            f"-Dkafka.logs.dir={spec.home / 'logs'}"]


def is_alive(pid: int) -> bool:
    """True while the process runs (a zombie child counts as gone)."""
    try:
        waited, _ = os.waitpid(pid, os.WNOHANG)
        if waited == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return not _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] == "Z"


def terminate(pid: int, grace_s: float = STOP_GRACE_S) -> None:
    """Stop with SIGTERM (a clean shutdown); SIGKILL if it has not exited after ``grace_s``."""
    _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        if not is_alive(pid):
            return
        time.sleep(0.1)
    kill(pid)


def terminate_all(pids: list[int], grace_s: float = STOP_GRACE_S) -> None:
    """SIGTERM every process at once (nodes shut down together), then SIGKILL stragglers."""
    for pid in pids:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    for pid in pids:
        terminate(pid, max(0.0, deadline - time.monotonic()))


def kill(pid: int) -> None:
    """SIGKILL the node and wait for it to be gone."""
    _signal(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while is_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)


def _signal(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)


def log_tail(spec: NodeSpec, lines: int = 20) -> str:
    """The last lines of the node's log (or its stdout when the log is empty)."""
    for path in (spec.log_file, spec.home / "logs" / "stdout.log"):
        if path.exists() and path.stat().st_size:
            return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    return "(the broker wrote no log)"
