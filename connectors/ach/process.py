"""``ledger ach workflows run`` in a child process (the demo, the tests, the benchmarks and
the chaos harness run it so)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from streams.service_process import ServiceProcess

__all__ = ["WorkflowProcessorProcess"]

_READY = re.compile(r"assigned \[")


class WorkflowProcessorProcess(ServiceProcess):
    """A workflow processor of the ledger ``prefix`` with a stable instance id."""

    def __init__(self, bootstrap: str, log_file: Path, instance_id: str,
                 prefix: str = "ledger") -> None:
        super().__init__("ACH workflow processor", [
            sys.executable, "-m", "ledger_cli", "ach", "workflows", "run",
            "--bootstrap-servers", bootstrap, "--topic-prefix", prefix,
            "--instance-id", instance_id], log_file, _READY)

    def start(self) -> WorkflowProcessorProcess:
        """Start it; return once it owns its first partitions."""
        self.launch()
        return self
