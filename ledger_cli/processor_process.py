"""Running ``ledger processor run`` as a child process: for the demo, tests, chaos and benches.

A processor in its own process can be SIGKILLed like a real crash and restarted with the
same instance id (the same transactional id and static group member id).
"""

import os
import subprocess
import sys
import time
from pathlib import Path

from streams.errors import LedgerError
from streams.local_kafka.node import is_alive, kill, terminate

READY_TIMEOUT_S = 90.0


class ProcessorProcess:
    """One processor child process and its log."""

    def __init__(self, bootstrap: str, topic_prefix: str, instance_id: str, state_dir: Path,
                 log_file: Path, partitions: int = 6, extra_args: tuple[str, ...] = (),
                 source: Path | None = None) -> None:
        self.bootstrap = bootstrap
        self.topic_prefix = topic_prefix
        self.instance_id = instance_id
        self.state_dir = state_dir
        self.log_file = log_file
        self.partitions = partitions
        self.extra_args = extra_args
        # Another checkout of the project to run instead of this one (benchmarks compare
        # commits side by side).
        self.source = source
        self.pid: int | None = None
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, wait: bool = True) -> "ProcessorProcess":
        """Start the process; with ``wait``, until its log shows its first assignment."""
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        self._log_start = self.log_file.stat().st_size if self.log_file.exists() else 0
        with open(self.log_file, "ab") as log:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "ledger_cli", "processor", "run",
                 "--bootstrap-servers", self.bootstrap, "--topic-prefix", self.topic_prefix,
                 "--instance-id", self.instance_id, "--state-dir", str(self.state_dir),
                 "--partitions", str(self.partitions), *self.extra_args],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True, cwd=self.source, env=self._environment())
        self.pid = self._process.pid
        if wait:
            self.wait_assigned()
        return self

    def _environment(self) -> dict[str, str]:
        environment = {**os.environ, "PYTHONUNBUFFERED": "1"}
        if self.source is not None:
            environment["PYTHONPATH"] = str(self.source)
        return environment

    def wait_assigned(self, timeout_s: float = READY_TIMEOUT_S) -> None:
        """Block until the process logs a partition assignment; fail if it exits first."""
        deadline = time.monotonic() + timeout_s
        while "assigned [" not in self.log_since_start():
            if not self.alive:
                raise LedgerError(f"processor {self.instance_id} exited during start-up:\n"
                                  + self.log_since_start()[-2000:])
            if time.monotonic() > deadline:
                raise LedgerError(f"processor {self.instance_id} got no partitions in "
                                  f"{timeout_s:.0f}s:\n" + self.log_since_start()[-2000:])
            time.sleep(0.1)

    def log_since_start(self) -> str:
        """What the process logged since its latest start."""
        if not self.log_file.exists():
            return ""
        with open(self.log_file, "rb") as log:
            log.seek(self._log_start)
            return log.read().decode(errors="replace")

    @property
    def alive(self) -> bool:
        """True while the process runs."""
        if self._process is not None and self._process.poll() is not None:
            return False
        return self.pid is not None and is_alive(self.pid)

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        if self.pid is not None:
            kill(self.pid)
            self._reap()

    def stop(self, grace_s: float = 30.0) -> None:
        """SIGTERM (finish the batch, leave the group), SIGKILL after ``grace_s``."""
        if self.pid is not None and self.alive:
            terminate(self.pid, grace_s)
        self._reap()

    def _reap(self) -> None:
        if self._process is not None:
            self._process.wait(timeout=30)
        self.pid = None
