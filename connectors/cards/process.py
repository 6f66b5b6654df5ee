"""``ledger cards iso8583 serve`` in a child process, on a free port (the demo, the benchmark
and the chaos harness run it so)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from streams.card_keys import PAN_KEY_VARIABLE
from streams.service_process import ServiceProcess

__all__ = ["Iso8583Process"]

_READY = re.compile(r"ISO 8583 \((?:ascii|binary)\) server listening on [^:\s]+:(\d+)")


class Iso8583Process(ServiceProcess):
    """The ISO 8583 server of the ledger ``prefix``; ``pan_key`` reaches it through
    ``LEDGER_CARD_PAN_KEY``, never on its command line."""

    def __init__(self, bootstrap: str, log_file: Path, pan_key: str, prefix: str = "ledger",
                 spec: str = "ascii") -> None:
        super().__init__("ISO 8583 server", [
            sys.executable, "-m", "ledger_cli", "cards", "iso8583", "serve", "--spec", spec,
            "--port", "0", "--bootstrap-servers", bootstrap, "--topic-prefix", prefix],
            log_file, _READY, env={PAN_KEY_VARIABLE: pan_key})
        self.port = 0

    def start(self) -> Iso8583Process:
        """Start the server; return once it listens (``port`` is where)."""
        self.port = int(self.launch().group(1))
        return self
