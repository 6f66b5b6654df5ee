"""An API instance in a child process: it outlives its parent (the demo's ``--keep``)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from streams.service_process import ServiceProcess

__all__ = ["ApiProcess"]

_READY = re.compile(r"serving the GraphQL API of ledger '[^']*' at (http://\S+/graphql)")


class ApiProcess(ServiceProcess):
    """``python -m connectors.graphql_api`` as a child process, logging to ``log_file``;
    with ``auth_config``, authentication is on (``auth.config``)."""

    def __init__(self, bootstrap: str, topic_prefix: str, log_file: Path, port: int = 0,
                 host: str = "127.0.0.1", auth_config: Path | None = None) -> None:
        super().__init__("API", [
            sys.executable, "-m", "connectors.graphql_api", "--bootstrap-servers", bootstrap,
            "--topic-prefix", topic_prefix, "--host", host, "--port", str(port),
            *(() if auth_config is None else ("--auth-config", str(auth_config)))],
            log_file, _READY)
        self.url = ""

    def start(self) -> ApiProcess:
        """Start the child; return once it serves (its log names its URL)."""
        self.url = self.launch().group(1)
        return self
