"""An API instance in a child process: it outlives its parent (the demo's ``--keep``)."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

from streams.errors import LedgerError

__all__ = ["ApiProcess"]

START_TIMEOUT_S = 120.0
STOP_GRACE_S = 30.0
_READY = re.compile(r"serving the GraphQL API of ledger '[^']*' at (http://\S+/graphql)")


class ApiProcess:
    """``python -m connectors.graphql_api`` as a child process, logging to ``log_file``;
    with ``auth_config``, authentication is on (``auth.config``)."""

    def __init__(self, bootstrap: str, topic_prefix: str, log_file: Path, port: int = 0,
                 host: str = "127.0.0.1", auth_config: Path | None = None) -> None:
        self.command = [sys.executable, "-m", "connectors.graphql_api",
                        "--bootstrap-servers", bootstrap, "--topic-prefix", topic_prefix,
                        "--host", host, "--port", str(port),
                        *(() if auth_config is None else ("--auth-config", str(auth_config)))]
        self.log_file = log_file
        self.url = ""
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        """The child's process id."""
        assert self._process is not None, "the API process was not started"
        return self._process.pid

    def start(self) -> ApiProcess:
        """Start the child; return once it serves (its log names its URL)."""
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        start = self.log_file.stat().st_size if self.log_file.exists() else 0
        with open(self.log_file, "ab") as log:
            self._process = subprocess.Popen(self.command, stdout=log, stderr=subprocess.STDOUT,
                                             stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT_S
        while not (ready := _READY.search(self._log_since(start))):
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise LedgerError("the API did not start:\n" + self._log_since(start)[-2000:])
            time.sleep(0.1)
        self.url = ready.group(1)
        return self

    def _log_since(self, start: int) -> str:
        with open(self.log_file, "rb") as log:
            log.seek(start)
            return log.read().decode(errors="replace")

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
