"""``ledger ach file generate | show``: the NACHA files the ODFI sends.

``generate`` finishes a file an earlier run left PROCESSING, else makes the next file from
the SUBMITTED executions not yet in one, and writes its text to ``--output``. ``show``
writes a generated file's text again from its records.
"""

from __future__ import annotations

import argparse
import json
import os
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

from connectors.ach.file_entries import FileEntryStatus
from connectors.ach.file_generator import RESULT_TIMEOUT_S, generate_file, written_text
from connectors.ach.files import AchFileRecord
from ledger_cli.common import add_kafka_options
from ledger_core.ach_tran_codes import CONFIGURATION
from streams.errors import LedgerError
from streams.settings import resolve_bootstrap


def register(ach_commands: Any) -> None:
    """Add ``generate`` and ``show`` to the ``ach file`` group (made if it is not there)."""
    files = file_group(ach_commands)
    generate = files.add_parser("generate", help="generate the next ODFI file from the "
                                                 "submitted executions not yet in one")
    add_kafka_options(generate)
    generate.add_argument("--config-id", type=uuid.UUID, default=CONFIGURATION.config_id,
                          help="the ACH configuration (default: the one `ledger ach setup` "
                               "creates)")
    generate.add_argument("--output", type=Path, required=True,
                          help="where to write the NACHA file")
    generate.add_argument("--max-entries", type=int, default=None,
                          help="at most this many entries; the rest wait for the next file")
    generate.add_argument("--timeout", type=float, default=RESULT_TIMEOUT_S,
                          help="seconds to wait for the workflow processor to keep the trace "
                               "numbers")
    generate.set_defaults(handler=_generate, render=_render)

    show = files.add_parser("show", help="write a generated file again from its records")
    add_kafka_options(show)
    show.add_argument("file_id", type=uuid.UUID, metavar="FILE_ID")
    show.add_argument("--output", type=Path, default=None,
                      help="write the NACHA file here (default: print it)")
    show.set_defaults(handler=_show)


def file_group(ach_commands: Any) -> Any:
    """The sub-commands of ``ledger ach file``, whichever command module added it first."""
    group = ach_commands.choices.get("file")
    if group is None:
        group = ach_commands.add_parser("file", help="NACHA files generated and received")
        return group.add_subparsers(dest="file_command", required=True)
    return next(action for action in group._actions
                if isinstance(action, argparse._SubParsersAction))


def _generate(args: argparse.Namespace) -> dict[str, Any]:
    if args.max_entries is not None and args.max_entries < 1:
        raise LedgerError("--max-entries must be at least 1")
    generation = generate_file(resolve_bootstrap(args.bootstrap_servers), args.topic_prefix,
                               args.config_id, max_entries=args.max_entries,
                               timeout_s=args.timeout)
    answer: dict[str, Any] = {
        "file": None, "resumed": generation.resumed, "deferred": generation.deferred,
        "held": [{"executionId": str(h.execution_id), "code": h.code, "message": h.message}
                 for h in generation.held],
        "refused": [{"executionId": str(e.execution_id), "traceNumber": e.trace_number,
                     "code": e.refusal_code, "message": e.refusal_message}
                    for e in generation.entries if e.status is FileEntryStatus.REFUSED]}
    if generation.record is not None:
        write_whole(args.output, generation.text)
        answer["file"] = summary(generation.record) | {"output": str(args.output)}
    if answer["refused"]:
        # The file is written, these entries with it: each needs an operator's look.
        print(json.dumps(answer, indent=2) if args.json else _render(answer))
        raise SystemExit(1)
    return answer


def _show(args: argparse.Namespace) -> None:
    record, text = written_text(resolve_bootstrap(args.bootstrap_servers), args.topic_prefix,
                                args.file_id)
    if args.output is None:
        print(text, end="")
        return
    write_whole(args.output, text)
    print(f"wrote {record.name} ({record.file_id}) to {args.output}")


def write_whole(path: Path, text: str) -> None:
    """Write the whole file or nothing: a reader never sees half a NACHA file."""
    partial = path.with_name(f".{path.name}.partial")
    with open(partial, "w", encoding="ascii", newline="") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())
    os.replace(partial, path)


def cents(amount: int) -> str:
    """Integer cents as a decimal amount: 15001 -> 150.01."""
    return str(Decimal(amount).scaleb(-2))


def summary(record: AchFileRecord) -> dict[str, Any]:
    """A file's id, status and totals."""
    stats = record.statistics
    return {"fileId": str(record.file_id), "name": record.name, "status": record.status,
            "configId": str(record.config_id), "configVersion": record.config_version,
            "createdAt": record.created_at.isoformat(), "batches": stats.batches,
            "entries": stats.entries, "totalDebit": cents(stats.total_debit_cents),
            "totalCredit": cents(stats.total_credit_cents), "entryHash": stats.entry_hash}


def _render(answer: dict[str, Any]) -> str:
    lines = []
    file = answer["file"]
    if file is None:
        lines.append("no submitted execution is waiting for a file")
    else:
        verb = "finished" if answer["resumed"] else "generated"
        lines.append(f"{verb} {file['name']} {file['fileId']} {file['status']}: "
                     f"{file['batches']} batch(es), {file['entries']} entries, debits "
                     f"{file['totalDebit']}, credits {file['totalCredit']}, entry hash "
                     f"{file['entryHash']:010d}; written to {file['output']}")
    if answer["deferred"]:
        lines.append(f"{answer['deferred']} entries wait for the next file (this one is full)")
    lines += [f"HELD {h['executionId']} {h['code']}: {h['message']}" for h in answer["held"]]
    lines += [f"REFUSED {r['executionId']} trace {r['traceNumber']} {r['code']}: "
              f"{r['message']}" for r in answer["refused"]]
    return "\n".join(lines)
