"""``ledger sink ...``: the sinks that carry the ledger's topics to the world outside Kafka."""

from typing import Any

from ledger_cli import parquet_commands, webhook_commands


def register(commands: Any) -> None:
    """Add ``sink`` with one sub-command per sink."""
    sink = commands.add_parser("sink", help="run a sink of the ledger's topics")
    sinks = sink.add_subparsers(dest="sink", required=True)
    for group in (webhook_commands, parquet_commands):
        group.register(sinks)
