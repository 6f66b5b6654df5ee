"""``ledger audit``: replay the log, prove the invariants, or answer a past balance."""

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from ledger_cli.common import add_kafka_options, client, topics
from ledger_cli.rendering import render_table
from ledger_core import AccountSet, Direction, Layer
from ledger_core.audit import Position
from ledger_core.catalog import Catalog
from streams.audit_log import AuditReport, balance_as_of, read_catalog, run_audit
from streams.errors import LedgerError
from streams.settings import resolve_bootstrap

QUARANTINE_HINT = ("quarantined records were not applied and are no violation; "
                   'docs/streams.md ("Resolving a quarantined record") says how to resolve them')


def register(commands: Any) -> None:
    """Add ``audit``."""
    audit = commands.add_parser(
        "audit", help="replay the entries topic and prove the ledger's invariants")
    add_kafka_options(audit)
    audit.add_argument("--state-dir", action="append", type=Path, default=[],
                       help="also compare a (stopped) processor's RocksDB state (repeatable)")
    audit.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    audit.add_argument("--account", help="answer this account's (or account set's) balance "
                                         "instead (id or code)")
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
    summary: dict[str, Any] = {
        "entries": report.entries, "transactions": report.transactions,
        "results": report.results, "balances": report.balances, "legs": report.legs,
        "catalogRecords": report.catalog_records,
        "replaySeconds": round(report.replay_seconds, 3),
        "entriesPerSecond": round(report.entries_per_second),
        "violations": [{"rule": v.rule, "message": v.message,
                        "position": None if v.position is None else str(v.position),
                        "ids": dict(v.ids)} for v in report.violations],
        "quarantined": [{"source": str(q.source), "code": q.code, "error": q.error,
                         "deadLetter": str(q.dead_letter)} for q in report.quarantined],
    }
    if report.quarantined:
        summary["quarantineHint"] = QUARANTINE_HINT
    return summary


def _render(report: AuditReport) -> str:
    lines = [f"replayed {report.entries:,} entries of {report.transactions:,} transactions "
             f"in {report.replay_seconds:.2f}s ({report.entries_per_second:,.0f} entries/s); "
             f"{report.results:,} results, {report.balances:,} balances, {report.legs:,} legs, "
             f"{report.catalog_records:,} catalog records"]
    if not report.violations:
        lines.append("no violations: every transaction balances, nothing is duplicated, every "
                     "command has one answer, CDC equals the replay, no limit was crossed, "
                     "every leg and catalog record matches a decision, every record decodes")
    for violation in report.violations:
        where = f" at {violation.position}" if violation.position else ""
        lines.append(f"VIOLATION {violation.rule}{where}: {violation.message}")
    if report.quarantined:
        lines.append(f"QUARANTINED: {len(report.quarantined):,} record(s) the processors did "
                     f"not apply ({QUARANTINE_HINT})")
    for record in report.quarantined:
        lines.append(f"QUARANTINED {record.code} at {record.source}: {record.error} "
                     f"(dead letter {record.dead_letter})")
    return "\n".join(lines)


def _account_id(table: Catalog, account: str) -> UUID:
    """The account (or set) named by ``--account``: an id, or a code looked up in the
    catalog."""
    try:
        return UUID(account)
    except ValueError:
        pass
    account_id = table.account_codes.get(account) or table.account_set_codes.get(account)
    if account_id is None:
        raise LedgerError(f"no account or account set has id or code {account!r}")
    return account_id


def _balance_as_of(args: argparse.Namespace) -> dict[str, Any]:
    ledger = client(args, watch_results=False)
    partitions, bootstrap = ledger.partitions, ledger.bootstrap
    ledger.close()
    # A reader that skips records it cannot decode: a forged catalog record must not stop
    # the answer (it is `ledger audit` that reports it).
    table, _skipped = read_catalog(resolve_bootstrap(args.bootstrap_servers),
                                   topics(args).catalog)
    account_id = _account_id(table, args.account)
    account = table.account(account_id) or table.account_set(account_id)
    if account is None:
        raise LedgerError(f"account {account_id} does not exist (nor an account set)")
    if isinstance(account, AccountSet) and args.as_of_offset is not None:
        raise LedgerError("--as-of-offset is an offset of one account's entries partition; "
                          "a set's entries are on its members' partitions: use --as-of")
    at = args.as_of
    if at is not None and at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    undecodable: list[Position] = []
    folded = balance_as_of(bootstrap, topics(args), partitions, account_id,
                           args.as_of_offset, at, undecodable,
                           account_set=isinstance(account, AccountSet))
    if undecodable:
        print(f"skipped {len(undecodable)} undecodable record(s) of the entries partition "
              f"(first at {undecodable[0]}); `ledger audit` reports them", file=sys.stderr)
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
            "asOf": None if at is None else at.isoformat(),
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
