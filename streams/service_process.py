"""A long-running service in a child process that outlives its parent (the demo's ``--keep``).

The child logs to a file, and it is ready once its log shows a line matching ``ready``: the
line names where it serves (a URL, a port), which may have been picked at start (port 0).
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from streams.errors import LedgerError

__all__ = ["ServiceProcess"]

START_TIMEOUT_S = 120.0
STOP_GRACE_S = 30.0


class ServiceProcess:
    """``command`` as a child process logging to ``log_file``; ``env`` adds variables."""

    def __init__(self, name: str, command: Sequence[str], log_file: Path, ready: re.Pattern[str],
                 env: Mapping[str, str] | None = None) -> None:
        self.name = name
        self.command = list(command)
        self.log_file = log_file
        self.ready = ready
        self.env = None if env is None else {**os.environ, **env}
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        """The child's process id."""
        assert self._process is not None, f"the {self.name} process was not started"
        return self._process.pid

    def launch(self) -> re.Match[str]:
        """Start the child; return its ready line's match once its log shows it."""
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        start = self.log_size()
        with open(self.log_file, "ab") as log:
            self._process = subprocess.Popen(self.command, stdout=log, stderr=subprocess.STDOUT,
                                             stdin=subprocess.DEVNULL, start_new_session=True,
                                             env=self.env)
        deadline = time.monotonic() + START_TIMEOUT_S
        while not (ready := self.ready.search(self.log_since(start))):
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise LedgerError(f"the {self.name} did not start:\n"
                                  + self.log_since(start)[-2000:])
            time.sleep(0.1)
        return ready

    def log_size(self) -> int:
        """Where the log ends now: what the child logs next is ``log_since`` it."""
        return self.log_file.stat().st_size if self.log_file.exists() else 0

    def log_since(self, offset: int) -> str:
        """What the child logged after ``offset``."""
        with open(self.log_file, "rb") as log:
            log.seek(offset)
            return log.read().decode(errors="replace")

    @property
    def alive(self) -> bool:
        """True while the child runs."""
        return self._process is not None and self._process.poll() is None

    def kill(self) -> None:
        """SIGKILL: a crash at whatever instant the child is at."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait(timeout=STOP_GRACE_S)

    def stop(self) -> None:
        """SIGTERM (a clean stop), SIGKILL after a grace period."""
        if self._process is None or self._process.poll() is not None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=STOP_GRACE_S)
