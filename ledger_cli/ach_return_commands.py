"""``ledger ach file returns FILE``: the return file of a processed received file, its entries
returned by the decisioning webhook or through the exception account
(``connectors.ach.rdfi_returns``).

The NACHA text goes to ``--output`` (whole, by rename) or to stdout; the summary goes to
stderr, so stdout holds the file alone. Neither names an account number or a name.
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from connectors.ach.file_generation import FILE_ID_MODIFIERS, SEQUENCE_MAX, local_created
from connectors.ach.rdfi_returns import return_file
from ledger_cli.ach_file_commands import resolve_configuration
from ledger_cli.ach_generate_commands import cents, file_group, write_whole
from ledger_cli.common import add_kafka_options
from nacha import generate
from nacha.validate import Totals
from streams.errors import LedgerError
from streams.settings import resolve_bootstrap


def register(ach_commands: Any) -> None:
    """Add ``returns`` to the ``ach file`` group (made if it is not there)."""
    returns = file_group(ach_commands).add_parser(
        "returns", help="write the return file of a processed received file: the entries "
                        "the webhook returned or the exception account took")
    returns.add_argument("file", type=Path, help="the received NACHA file, as processed")
    add_kafka_options(returns)
    returns.add_argument("--config-id", type=uuid.UUID, required=True,
                         help="the ACH configuration the file was processed under")
    returns.add_argument("--output", type=Path, default=None,
                         help="write the return file here (default: stdout)")
    returns.add_argument("--file-id-modifier", default="A", choices=list(FILE_ID_MODIFIERS),
                         metavar="A-Z|0-9",
                         help="the return file's file ID modifier, to tell it apart from the "
                              "day's other files (default A)")
    returns.add_argument("--first-sequence", type=int, default=1,
                         help="the 7-digit sequence of the first return's trace number "
                              "(default 1)")
    returns.set_defaults(handler=_returns)


def _returns(args: argparse.Namespace) -> None:
    if not 1 <= args.first_sequence <= SEQUENCE_MAX:
        raise LedgerError(f"--first-sequence must be 1 to {SEQUENCE_MAX:,}")
    bootstrap = resolve_bootstrap(args.bootstrap_servers)
    configuration = resolve_configuration(bootstrap, args.topic_prefix, args.config_id)
    try:
        content = args.file.read_bytes()
    except OSError as exc:
        raise LedgerError(f"cannot read {args.file}: {exc.strerror}") from exc
    made = return_file(content, bootstrap=bootstrap, prefix=args.topic_prefix,
                       configuration=configuration,
                       created=local_created(datetime.now(UTC), configuration),
                       file_id_modifier=args.file_id_modifier,
                       first_sequence=args.first_sequence)
    summary: dict[str, Any] = {"fileId": str(made.file_id), "returned": len(made.returns)}
    if made.ach_file is not None:
        text = generate(made.ach_file)
        if args.output is None:
            sys.stdout.write(text)
        else:
            write_whole(args.output, text)
        totals = Totals.of(made.ach_file.entries)
        summary |= {"returnCodes": dict(sorted(Counter(made.returns.values()).items())),
                    "totalCredit": cents(totals.credits), "totalDebit": cents(totals.debits),
                    "output": str(args.output) if args.output is not None else "-"}
    print(json.dumps(summary, indent=2) if args.json else _render(summary), file=sys.stderr)


def _render(summary: dict[str, Any]) -> str:
    if not summary["returned"]:
        return f"file {summary['fileId']}: no entry was returned; no return file written"
    codes = ", ".join(f"{code} {count}" for code, count in summary["returnCodes"].items())
    where = "stdout" if summary["output"] == "-" else summary["output"]
    return (f"file {summary['fileId']}: {summary['returned']} entries returned ({codes}); "
            f"credits returned {summary['totalCredit']}, debits returned "
            f"{summary['totalDebit']}; return file written to {where}")
