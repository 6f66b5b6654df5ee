"""``ledger processor run``: one exactly-once processor process."""

import argparse
import socket
from pathlib import Path
from typing import Any

from confluent_kafka.admin import AdminClient

from ledger_cli.common import add_kafka_options, topics
from streams.kafka_config import kafka_config
from streams.log_format import configure_logging
from streams.observability import (
    Readiness,
    add_observability_options,
    process_registry,
    serve_observability,
)
from streams.processor import ProcessorConfig, open_processor
from streams.processor_metrics import ProcessorMetrics
from streams.settings import default_state_dir, resolve_bootstrap
from streams.topics import existing_partitions

DEFAULT_PARTITIONS = 6


def register(commands: Any) -> None:
    """Add the ``processor`` command group."""
    processor = commands.add_parser("processor", help="run the posting processor")
    sub = processor.add_subparsers(dest="processor_command", required=True)
    run = sub.add_parser("run", help="process commands until SIGTERM (several may run at once)")
    add_kafka_options(run)
    run.add_argument("--instance-id", default=socket.gethostname(),
                     help="stable id of this process: its transactional id and group member id")
    run.add_argument("--state-dir", type=Path, default=None,
                     help="RocksDB state (default: processor-<instance-id> in the local "
                          "cluster's home when it runs on `ledger kafka start`'s broker, so "
                          "`--fresh` clears it too; else in $LEDGER_STATE_DIR)")
    run.add_argument("--partitions", type=int, default=None,
                     help="partitions of the ledger's topics when they are created (default: "
                          f"as many as the existing topics have, else {DEFAULT_PARTITIONS})")
    run.add_argument("--replication-factor", type=int, default=None)
    run.add_argument("--batch-max", type=int, default=500, help="records per transaction")
    run.add_argument("--batch-timeout-ms", type=int, default=10,
                     help="how long a batch waits to fill")
    add_observability_options(run)
    run.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> dict[str, Any]:
    configure_logging(args.log_format)
    bootstrap = resolve_bootstrap(args.bootstrap_servers)
    partitions = (args.partitions
                  or existing_partitions(AdminClient(kafka_config(bootstrap)), args.topic_prefix)
                  or DEFAULT_PARTITIONS)
    config = ProcessorConfig(
        bootstrap=bootstrap, topics=topics(args, partitions),
        state_dir=args.state_dir or default_state_dir(bootstrap, args.instance_id),
        instance_id=args.instance_id, batch_max=args.batch_max,
        batch_timeout_s=args.batch_timeout_ms / 1000, replication=args.replication_factor)
    registry, readiness = process_registry(), Readiness()
    # Served before the processor opens, so that probes see it not ready while it starts.
    server = None if args.metrics_port is None else serve_observability(
        registry, readiness, args.metrics_port, args.metrics_host)
    try:
        processor = open_processor(config, ProcessorMetrics(registry), readiness)
        processor.run()
    finally:
        if server is not None:
            server.close()
    return {"stopped": args.instance_id, "restored": processor.restored}
