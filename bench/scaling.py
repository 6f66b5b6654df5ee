"""Scaling: postings/s of one processor process, of two, and of two where the second joins
while the backlog is being processed (a rebalance in flight).

Each run starts a fresh ledger per variant, sends a backlog of ACH_CREDIT postings and times
first send -> last output visible (read_committed). Every variant also checks that each
posting got exactly one result (none lost, none doubled across the rebalance).

    python -m bench.scaling --runs 5 --postings 20000
"""

import argparse
import threading

from bench.broker import broker, stop_on_sigterm
from bench.figures import median, save, table
from bench.measure import backlog_rate
from bench.systems import LedgerSystem

VARIANTS = ("1 process", "2 processes", "1 + 1 joining under load")


def measure(bootstrap: str, variant: str, args: argparse.Namespace) -> float:
    """One run of one variant."""
    system = LedgerSystem(bootstrap, partitions=args.partitions,
                          processes=1 if variant.startswith("1") else 2,
                          batch_max=args.batch_max, batch_timeout_ms=args.batch_timeout_ms)
    system.start()
    try:
        during = None
        if variant.startswith("1 + 1"):
            def during() -> None:
                threading.Thread(target=system.add_processor, daemon=True).start()
        return backlog_rate(system, bootstrap, args.postings, during=during)
    finally:
        system.stop()


def main(argv: list[str] | None = None) -> str:
    """Run, print and save."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--postings", type=int, default=20_000)
    p.add_argument("--partitions", type=int, default=6)
    p.add_argument("--batch-max", type=int, default=500)
    p.add_argument("--batch-timeout-ms", type=int, default=10)
    p.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    args = p.parse_args(argv)
    stop_on_sigterm()
    rates: dict[str, list[float]] = {v: [] for v in args.variants}
    with broker() as bootstrap:
        for run_index in range(args.runs):
            for variant in args.variants:
                rates[variant].append(measure(bootstrap, variant, args))
                print(f"run {run_index + 1}/{args.runs} {variant}: "
                      f"{rates[variant][-1]:,.0f} postings/s", flush=True)
    one = median(rates.get("1 process", []))
    rows = [(v, median(r), " ".join(f"{x:,.0f}" for x in r), median(r) / one)
            for v, r in rates.items()]
    text = table(["processors", "postings/s (median)", "runs", "x one process"], rows)
    text += (f"\n\n{args.runs} runs, {args.postings:,} ACH_CREDIT postings per run, "
             f"{args.partitions} partitions, batch {args.batch_max} / {args.batch_timeout_ms} "
             "ms; every posting had exactly one result in every run.")
    print(text, flush=True)
    save("scaling", {"settings": vars(args), "rates": rates, "report": text})
    return text


if __name__ == "__main__":
    main()
