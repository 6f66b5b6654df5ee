"""``ledger sink parquet run``: the ledger's entries, transactions and balances as Parquet."""

import argparse
import signal
import threading
from typing import Any

from connectors.parquet_sink import ParquetSink, RollPolicy, default_warehouse
from connectors.parquet_sink.metrics import ParquetMetrics
from ledger_cli.common import add_kafka_options, topics
from streams.log_format import configure_logging
from streams.observability import (
    Readiness,
    add_observability_options,
    process_registry,
    serve_observability,
)
from streams.settings import resolve_bootstrap


def register(sinks: Any) -> None:
    """Add ``parquet``."""
    parquet = sinks.add_parser("parquet", help="the parquet sink (docs/warehouse.md)")
    actions = parquet.add_subparsers(dest="action", required=True)
    run = actions.add_parser(
        "run", help="write entries, transactions and balance versions as Parquet, exactly once")
    add_kafka_options(run)
    run.add_argument("--out", default=default_warehouse(),
                     help="the warehouse: a directory, or a URI such as s3://bucket/prefix "
                          f"(default: {default_warehouse()})")
    run.add_argument("--roll-records", type=int, default=RollPolicy.max_records,
                     help="write a partition's file once it holds this many records "
                          f"(default: {RollPolicy.max_records:,})")
    run.add_argument("--roll-seconds", type=float, default=RollPolicy.max_seconds,
                     help="... or once its oldest record has waited this long "
                          f"(default: {RollPolicy.max_seconds:.0f})")
    run.add_argument("--until-end", action="store_true",
                     help="stop once every partition is written up to its end as of the start")
    add_observability_options(run)
    run.set_defaults(handler=_run, render=_render)


def _run(args: argparse.Namespace) -> dict[str, Any]:
    configure_logging(args.log_format)
    try:
        policy = RollPolicy(args.roll_records, args.roll_seconds)
    except ValueError as exc:
        raise SystemExit(f"ledger: error: {exc}") from exc
    registry, readiness = process_registry(), Readiness()
    server = None if args.metrics_port is None else serve_observability(
        registry, readiness, args.metrics_port, args.metrics_host)
    sink = ParquetSink(resolve_bootstrap(args.bootstrap_servers), topics(args), args.out, policy,
                       ParquetMetrics(registry), readiness)
    stop = threading.Event()
    # SIGTERM stops like Ctrl-C: what is held is written before the sink exits.
    signal.signal(signal.SIGTERM, lambda _signum, _frame: stop.set())
    signal.signal(signal.SIGINT, lambda _signum, _frame: stop.set())
    try:
        stats = sink.run(stop, until_end=args.until_end)
    finally:
        if server is not None:
            server.close()
    return {"out": args.out, "records": stats.records, "flushes": stats.flushes,
            "files": stats.files, "seconds": round(stats.seconds, 3)}


def _render(result: dict[str, Any]) -> str:
    return (f"wrote {result['records']:,} records in {result['flushes']:,} flushes "
            f"({result['files']:,} files) to {result['out']} in {result['seconds']:.1f}s")
