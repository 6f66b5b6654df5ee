"""Entry point of the ``ledger`` command: parses arguments and prints results or clear errors.

Every command returns a JSON-able result. ``--json`` prints it as JSON; otherwise the command's
own plain-text rendering is used. Expected failures (``LedgerError``) print one message and
exit 1, never a traceback.
"""

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from ledger_cli import (
    ach_commands,
    api_commands,
    audit_commands,
    auth_commands,
    card_commands,
    card_server_commands,
    catalog_commands,
    kafka_commands,
    posting_commands,
    processor_commands,
    read_commands,
    sink_commands,
    sql_commands,
)
from streams.errors import LedgerError
from streams.kafka_config import check_connection, use_config_file
from streams.settings import resolve_bootstrap


def build_parser() -> argparse.ArgumentParser:
    """The full ``ledger`` argument parser."""
    parser = argparse.ArgumentParser(prog="ledger", description=__doc__)
    parser.add_argument("--json", action="store_true", help="print results as JSON")
    commands = parser.add_subparsers(dest="command", required=True)
    for group in (kafka_commands, processor_commands, catalog_commands, card_commands,
                  card_server_commands, posting_commands, read_commands, audit_commands,
                  api_commands, auth_commands, sink_commands, sql_commands, ach_commands):
        group.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one ``ledger`` command and return its exit status."""
    parser = build_parser()
    arguments = list(sys.argv[1:] if argv is None else argv)
    # --json is accepted anywhere on the line, not only before the command.
    as_json = "--json" in arguments
    args = parser.parse_args([a for a in arguments if a != "--json"])
    args.json = as_json
    try:
        if getattr(args, "kafka_config", None) is not None:
            use_config_file(args.kafka_config)
        if getattr(args, "needs_kafka", hasattr(args, "bootstrap_servers")):
            # A refused login or certificate, or no broker, is one clear line, not a hang.
            check_connection(resolve_bootstrap(args.bootstrap_servers))
        result: Any = args.handler(args)
    except LedgerError as exc:
        print(f"ledger: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    if result is not None:
        print(json.dumps(result, indent=2, default=str) if args.json else _render(args, result))
    return 0


def _render(args: argparse.Namespace, result: Any) -> str:
    render = getattr(args, "render", None)
    return str(render(result)) if render else json.dumps(result, indent=2, default=str)
