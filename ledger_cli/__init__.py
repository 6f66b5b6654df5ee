"""The ``ledger`` command line."""

from ledger_cli.main import main

__all__ = ["main"]
