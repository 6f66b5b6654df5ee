"""``ledger audit``: replay the log, prove the invariants, or answer a past balance."""

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from ledger_cli.common import add_kafka_options, client, topics
from ledger_cli.read_commands import account_id_of
from ledger_cli.rendering import render_table
from ledger_core import Direction, Layer
from streams.audit_log import AuditReport, balance_as_of, run_audit
from streams.catalog import CatalogReader
from streams.errors import LedgerError
from streams.settings import resolve_bootstrap


def register(commands: Any) -> None:
    """Add ``audit``."""
    audit = commands.add_parser(
        "audit", help="replay the entries topic and prove the ledger's invariants")
    add_kafka_options(audit)
    audit.add_argument("--state-dir", action="append", type=Path, default=[],
                       help="also compare a (stopped) processor's RocksDB state (repeatable)")
    audit.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    audit.add_argument("--account", help="answer this account's balance instead (id or code)")
    audit.add_argument("--as-of-offset", type=int, default=None,
                       help="with --account: up to this offset of its entries partition")
    audit.add_argument("--as-of", type=datetime.fromisoformat, default=None,
                       help="with --account: entries created at or before this time (ISO 8601)")
    audit.set_defaults(handler=_audit, render=render_as_of)


def _audit(args: argparse.Namespace) -> dict[str, Any] | None:
    if args.account is not None:
        return _balance_as_of(args)
    if args.as_of_offset is not None or args.as_of is not None:
        raise LedgerError("--as-of and --as-of-offset answer one account's balance: add --account")
    ledger = client(args, watch_results=False)
    partitions, bootstrap = ledger.partitions, ledger.bootstrap
    ledger.close()
    report = run_audit(bootstrap, topics(args), partitions, tuple(args.state_dir),
                       show_progress=not args.no_progress and sys.stderr.isatty())
    summary = _summary(report)
    print(json.dumps(summary, indent=2) if args.json else _render(report))
    if report.violations:
        raise SystemExit(1)
    return None


def _summary(report: AuditReport) -> dict[str, Any]:
    return {
        "entries": report.entries, "transactions": report.transactions,
        "results": report.results, "balances": report.balances,
        "replaySeconds": round(report.replay_seconds, 3),
        "entriesPerSecond": round(report.entries_per_second),
        "violations": [{"rule": v.rule, "message": v.message,
                        "position": None if v.position is None else str(v.position),
                        "ids": dict(v.ids)} for v in report.violations],
    }


def _render(report: AuditReport) -> str:
    lines = [f"replayed {report.entries:,} entries of {report.transactions:,} transactions "
             f"in {report.replay_seconds:.2f}s ({report.entries_per_second:,.0f} entries/s); "
             f"{report.results:,} results, {report.balances:,} balances"]
    if not report.violations:
        lines.append("no violations: every transaction balances, nothing is duplicated, every "
                     "command has one answer, CDC equals the replay, no limit was crossed")
    for violation in report.violations:
        where = f" at {violation.position}" if violation.position else ""
        lines.append(f"VIOLATION {violation.rule}{where}: {violation.message}")
    return "\n".join(lines)


def _balance_as_of(args: argparse.Namespace) -> dict[str, Any]:
    account_id = account_id_of(args)
    ledger = client(args, watch_results=False)
    partitions, bootstrap = ledger.partitions, ledger.bootstrap
    ledger.close()
    reader = CatalogReader(resolve_bootstrap(args.bootstrap_servers), topics(args).catalog)
    try:
        reader.catch_up()
        account = reader.table.account(account_id)
    finally:
        reader.close()
    if account is None:
        raise LedgerError(f"account {account_id} does not exist")
    folded = balance_as_of(bootstrap, topics(args), partitions, account_id,
                           args.as_of_offset, args.as_of)
    normal = account.normal_balance_type
    balances = []
    for (journal, currency), balance in sorted(folded.items()):
        layers = {}
        for index, layer in enumerate(Layer):
            dr, cr = balance.dr[index], balance.cr[index]
            layers[layer.value.lower()] = {
                "drBalance": str(dr), "crBalance": str(cr),
                "normalBalance": str(cr - dr if normal is Direction.CREDIT else dr - cr)}
        balances.append({"journalId": journal, "currency": currency,
                         "version": balance.version, **layers,
                         "available": {layer.value: str(balance.available(layer, normal))
                                       for layer in Layer}})
    return {"accountId": str(account_id), "asOfOffset": args.as_of_offset,
            "asOf": None if args.as_of is None else args.as_of.isoformat(),
            "balances": balances}


def render_as_of(result: dict[str, Any]) -> str:
    """A past balance as a table."""
    rows = [[f"{b['currency']} {layer.upper()}", b[layer]["drBalance"], b[layer]["crBalance"],
             b[layer]["normalBalance"], b["available"][layer.upper()]]
            for b in result["balances"] for layer in ("settled", "pending", "encumbrance")]
    when = (f"offset {result['asOfOffset']}" if result["asOfOffset"] is not None
            else result["asOf"] or "now")
    if not rows:
        return f"account {result['accountId']} had no balance as of {when}"
    return f"account {result['accountId']} as of {when}\n" + render_table(
        ["balance", "dr", "cr", "normal", "available"], rows)
