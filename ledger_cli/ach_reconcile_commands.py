"""``ledger ach reconcile``: generated files against their entries, the ledger's transactions
and the settlement account. Exits 1 when anything differs, as ``ledger audit`` does."""

from __future__ import annotations

import argparse
import json
import uuid
from datetime import date
from typing import Any

from connectors.ach.reconciler import reconcile_files
from connectors.ach.reconciliation import LAYERS, Reconciliation
from ledger_cli.ach_generate_commands import cents, summary
from ledger_cli.common import add_kafka_options
from ledger_core.ach_tran_codes import CONFIGURATION
from streams.settings import resolve_bootstrap


def register(ach_commands: Any) -> None:
    """Add ``ach reconcile``."""
    reconcile = ach_commands.add_parser(
        "reconcile", help="reconcile generated files with their entries, the ledger's "
                          "transactions and the settlement account")
    add_kafka_options(reconcile)
    which = reconcile.add_mutually_exclusive_group(required=True)
    which.add_argument("--date", type=date.fromisoformat,
                       help="the files created on this day (UTC) and the settlement "
                            "account's movement on it (YYYY-MM-DD)")
    which.add_argument("--file-id", type=uuid.UUID, help="one generated file")
    reconcile.add_argument("--config-id", type=uuid.UUID, default=CONFIGURATION.config_id,
                           help="the ACH configuration (default: the one `ledger ach setup` "
                                "creates)")
    reconcile.set_defaults(handler=_reconcile)


def _reconcile(args: argparse.Namespace) -> None:
    found = reconcile_files(resolve_bootstrap(args.bootstrap_servers), args.topic_prefix,
                            args.config_id, day=args.date, file_id=args.file_id)
    answer = _answer(found)
    print(json.dumps(answer, indent=2) if args.json else _render(args.date, answer))
    if found.differences:
        raise SystemExit(1)


def _answer(found: Reconciliation) -> dict[str, Any]:
    return {
        "files": [summary(totals.record) | {
            "fromEntries": {"batches": totals.entries.batches, "entries": totals.entries.entries,
                            "totalDebit": cents(totals.entries.total_debit_cents),
                            "totalCredit": cents(totals.entries.total_credit_cents),
                            "entryHash": totals.entries.entry_hash},
            "ledger": {"totalDebit": str(totals.ledger_debits),
                       "totalCredit": str(totals.ledger_credits)}}
            for totals in found.files],
        "settlement": [{"accountId": str(m.account_id),
                        "netDebit": {layer: {"total": str(m.total[layer]),
                                             "workflows": str(m.workflows[layer]),
                                             "received": str(m.received[layer]),
                                             "outside": str(m.outside[layer])}
                                     for layer in LAYERS}}
                       for m in found.movements],
        "differences": [{"code": d.code, "message": d.message,
                         **{name: str(value) for name, value in
                            (("fileId", d.file_id), ("executionId", d.execution_id),
                             ("transactionId", d.transaction_id)) if value is not None}}
                        for d in found.differences],
    }


def _render(day: date | None, answer: dict[str, Any]) -> str:
    lines = [] if answer["files"] or day is None else [f"no file was generated on {day}"]
    for file in answer["files"]:
        ledger = file["ledger"]
        lines.append(f"{file['name']} {file['fileId']} {file['status']}: {file['entries']} "
                     f"entries in {file['batches']} batch(es), debits {file['totalDebit']} "
                     f"(ledger {ledger['totalDebit']}), credits {file['totalCredit']} "
                     f"(ledger {ledger['totalCredit']}), entry hash {file['entryHash']:010d}")
    for movement in answer["settlement"]:
        moved = "; ".join(f"{layer} {net['total']} (workflows {net['workflows']}, received "
                          f"{net['received']}, outside {net['outside']})"
                          for layer, net in movement["netDebit"].items())
        lines.append(f"settlement account {movement['accountId']} net debit on {day}: {moved}")
    lines += [f"DIFFERENCE {d['code']}: {d['message']}" for d in answer["differences"]]
    if not answer["differences"]:
        lines.append("no differences")
    return "\n".join(lines)
