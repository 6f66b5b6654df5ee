"""The local Kafka tooling fails with clear messages, never with a traceback."""

import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from streams.errors import LocalKafkaError
from streams.local_kafka import create_cluster, ensure_jars, start_cluster
from streams.local_kafka.java import require_java


def _fake_bin(directory: Path, name: str, script: str) -> None:
    directory.mkdir(exist_ok=True)
    path = directory / name
    path.write_text("#!/bin/sh\n" + script + "\n")
    path.chmod(0o755)


def test_missing_java_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With no java on PATH the error says so and names the version Kafka needs."""
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(LocalKafkaError, match=r"Java was not found.*17"):
        require_java()


def test_java_older_than_17_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A Java 11 runtime is refused with its version in the message."""
    _fake_bin(tmp_path, "java", "echo 'openjdk version \"11.0.21\" 2023-10-17' >&2")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(LocalKafkaError, match=r"is Java 11; Kafka 4\.x needs Java 17"):
        require_java()


def test_missing_maven_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fetching jars into an empty cache without mvn on PATH names Maven."""
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(LocalKafkaError, match=r"Maven \(mvn\) was not found"):
        ensure_jars(tmp_path / "cache")


def test_unreachable_maven_central_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Real Maven pointed at a repository nobody serves reports Maven Central as unreachable."""
    real_mvn = shutil.which("mvn")
    assert real_mvn, "this test runs the real Maven"
    settings = tmp_path / "settings.xml"
    settings.write_text(
        "<settings><mirrors><mirror><id>nowhere</id><mirrorOf>*</mirrorOf>"
        "<url>http://127.0.0.1:9/maven2</url></mirror></mirrors></settings>"
    )
    bin_dir = tmp_path / "bin"
    _fake_bin(bin_dir, "mvn", f'exec {real_mvn} -s {settings} '
              f'-Dmaven.repo.local={tmp_path / "m2"} "$@"')
    monkeypatch.setenv("PATH", f"{bin_dir}:{Path(sys.executable).parent}:/usr/bin:/bin")
    with pytest.raises(LocalKafkaError, match="Maven Central looks unreachable"):
        ensure_jars(tmp_path / "cache")


def test_a_taken_port_is_reported(tmp_path: Path) -> None:
    """Asking for a port another process holds fails before any broker starts."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(LocalKafkaError, match=f"port {port} on 127.0.0.1 is already taken"):
            start_cluster(tmp_path / "kafka", port=port)


def test_a_broker_that_exits_during_start_up_shows_its_log(tmp_path: Path) -> None:
    """A broker with a broken setting exits, and the error carries the end of its log."""
    cluster = create_cluster(tmp_path / "kafka")
    spec = cluster.nodes[0]
    spec.properties_file.write_text(
        spec.properties_file.read_text() + "num.network.threads=not-a-number\n"
    )
    with pytest.raises(LocalKafkaError) as raised:
        cluster.start(timeout_s=60)
    message = str(raised.value)
    assert "exited during start-up" in message
    assert "num.network.threads" in message


def test_cli_errors_print_one_line_and_no_traceback(tmp_path: Path) -> None:
    """`ledger kafka status` with no cluster exits 1 with a message, not a traceback."""
    proc = subprocess.run(
        [sys.executable, "-m", "ledger_cli", "kafka", "status"],
        capture_output=True, text=True, env={"LEDGER_STATE_DIR": str(tmp_path), "PATH": "/usr/bin"},
        check=False,
    )
    assert proc.returncode == 1
    assert proc.stderr.startswith("ledger: error: no local Kafka cluster")
    assert "Traceback" not in proc.stderr
