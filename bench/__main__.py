"""``make bench``: every benchmark in turn, on one broker, then a summary of the figures.

    python -m bench                      # everything, about an hour on 2 cores
    python -m bench --only throughput latency --runs 3
    python -m bench --quick              # small sizes, to check the suite runs

Each benchmark also runs alone (``python -m bench.<name> --help``), prints its table and
leaves its figures in ``var/bench/results/<name>.json``.
"""

import argparse
import time
from pathlib import Path

from bench import (
    account_sets,
    ach_rdfi,
    audit_replay,
    cards,
    hot_accounts,
    latency,
    nacha_parse,
    parquet_sink,
    processor_stages,
    profile_processor,
    restore,
    scaling,
    throughput,
    transaction_floor,
    webhooks,
)
from bench.api import catalog_writes
from bench.broker import broker, stop_on_sigterm
from streams.kafka_config import use_config_file

# name -> (module, default arguments, --quick arguments)
SUITE = {
    "throughput": (throughput, ["--runs", "5"], ["--runs", "1", "--postings", "2000"]),
    "latency": (latency, ["--runs", "5"], ["--runs", "1", "--seconds", "3"]),
    "transaction_floor": (transaction_floor, ["--runs", "3"],
                          ["--runs", "1", "--transactions", "10"]),
    "scaling": (scaling, ["--runs", "3"], ["--runs", "1", "--postings", "2000"]),
    "hot_accounts": (hot_accounts, ["--runs", "3", "--postings", "10000"],
                     ["--runs", "1", "--postings", "2000", "--shares", "0", "100"]),
    "account_sets": (account_sets, ["--runs", "3", "--postings", "10000"],
                     ["--runs", "1", "--postings", "2000", "--depths", "0", "1"]),
    "restore": (restore, ["--runs", "3"], ["--runs", "1", "--accounts", "20000"]),
    "audit_replay": (audit_replay, ["--runs", "3"], ["--runs", "1", "--entries", "50000"]),
    "parquet_sink": (parquet_sink, ["--runs", "3"], ["--runs", "1", "--entries", "50000"]),
    "processor_stages": (processor_stages, ["--runs", "5", "--profile", "30"],
                         ["--runs", "1", "--postings", "500"]),
    "profile_processor": (profile_processor, [], ["--postings", "2000"]),
    "webhooks": (webhooks, [], ["--postings", "2000", "--seconds", "5"]),
    "cards": (cards, ["--runs", "3"], ["--runs", "1", "--seconds", "3", "--rates", "100",
                                       "--cardholders", "100"]),
    "nacha_parse": (nacha_parse, ["--runs", "5"], ["--runs", "1", "--entries", "10000"]),
    "ach_rdfi": (ach_rdfi, ["--runs", "3"], ["--runs", "1", "--entries", "2000"]),
    "catalog_writes": (catalog_writes, ["--runs", "3"],
                       ["--runs", "1", "--sequential", "5", "--documents", "2",
                        "--accounts", "100", "--bulk", "500"]),
}


def main() -> None:
    """Run the chosen benchmarks and print every table again at the end."""
    p = argparse.ArgumentParser(description="Run the benchmark suite.")
    p.add_argument("--only", nargs="+", choices=list(SUITE), default=list(SUITE))
    p.add_argument("--runs", type=int, default=None, help="runs of every benchmark")
    p.add_argument("--quick", action="store_true", help="small sizes: checks the suite runs")
    p.add_argument("--kafka-config", type=Path, default=None, metavar="FILE",
                   help="librdkafka client properties for every client, with "
                        "KAFKA_BOOTSTRAP_SERVERS naming the cluster (default: "
                        "$LEDGER_KAFKA_CONFIG); each benchmark alone reads the variable")
    args = p.parse_args()
    if args.kafka_config is not None:
        use_config_file(args.kafka_config)
    stop_on_sigterm()
    reports = {}
    with broker():  # one broker for the whole suite; each benchmark finds it running
        for name in args.only:
            module, default, quick = SUITE[name]
            argv = list(quick if args.quick else default)
            if args.runs is not None and "--runs" in argv:
                argv[argv.index("--runs") + 1] = str(args.runs)
            print(f"\n## {name} ({' '.join(argv)})\n", flush=True)
            started = time.monotonic()
            reports[name] = module.main(argv)
            print(f"\n({name} took {time.monotonic() - started:,.0f} s)", flush=True)
    print("\n# Summary\n")
    for name, text in reports.items():
        print(f"## {name}\n\n{text}\n")


if __name__ == "__main__":
    main()
