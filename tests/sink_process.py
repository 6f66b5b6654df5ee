"""A sink (``ledger sink ...``) in a child process, which a test may SIGKILL and start again."""

import os
import subprocess
import sys
import time
from pathlib import Path

READY_TIMEOUT_S = 90.0


class SinkProcess:
    """One sink command; every start appends to the same log."""

    def __init__(self, arguments: list[str], log: Path,
                 environment: dict[str, str] | None = None) -> None:
        self.arguments = [sys.executable, "-m", "ledger_cli", "sink", *arguments]
        self.log = log
        self.environment = environment or {}
        self.process: subprocess.Popen[bytes] | None = None
        self._log_start = 0

    def start(self) -> "SinkProcess":
        """Start it; it logs to ``log``."""
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self._log_start = self.log.stat().st_size if self.log.exists() else 0
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                self.arguments, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env={**os.environ, "PYTHONUNBUFFERED": "1", **self.environment})
        return self

    def log_since_start(self) -> str:
        """What it logged since its latest start."""
        return self.log.read_bytes()[self._log_start:].decode(errors="replace")

    def wait_for_log(self, text: str, timeout_s: float = READY_TIMEOUT_S) -> None:
        """Until its log (since its start) shows ``text``; fail if it exits first."""
        deadline = time.monotonic() + timeout_s
        while text not in self.log_since_start():
            assert self.alive, f"the sink exited:\n{self.log_since_start()[-3000:]}"
            assert time.monotonic() < deadline, f"the sink did not log {text!r}"
            time.sleep(0.05)

    @property
    def alive(self) -> bool:
        """True while it runs."""
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: a crash at whatever instant the sink is at."""
        assert self.process is not None
        self.process.kill()
        self.process.wait(30)

    def wait(self, timeout_s: float = 180) -> int:
        """Until it exits by itself; its exit status."""
        assert self.process is not None
        return self.process.wait(timeout_s)

    def stop(self, grace_s: float = 60) -> int | None:
        """SIGTERM (it finishes what it holds), SIGKILL after ``grace_s``; its exit status."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.terminate()
            try:
                return self.process.wait(grace_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
        return self.process.wait(30)
