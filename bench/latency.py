"""Latency from command to result at steady offered loads (open loop): p50, p99, p999.

One ledger processor process posts the tutorial's ACH_CREDIT (and, with ``--commits``, the
processor of each earlier commit in turn, so a change is measured against its start). For
each rate the sender holds the offered load for ``--seconds`` on a fixed schedule whatever
the ledger does (open loop), and each posting's latency runs from its scheduled send time to
the moment its result is visible to a read_committed consumer, both on the benchmark's
clock. Each run starts a fresh ledger; figures are medians over runs of each run's
percentile.

    python -m bench.latency --runs 5 --rates 100 500 1000 2000 --seconds 15

100/s is not a goal: it shows the floor, what batching and the commit cost when the
processor is far from busy.
"""

import argparse

from bench.broker import broker, stop_on_sigterm
from bench.figures import median, percentile, save, table
from bench.measure import latencies_at
from bench.systems import LedgerSystem

QUANTILES = {"p50": 0.50, "p99": 0.99, "p999": 0.999}


Figures = dict[str, dict[int, list[dict[str, float]]]]


def run(args: argparse.Namespace) -> Figures:
    """Per ledger (the working tree's, and each of ``--commits``) and rate, the percentiles
    (ms) of every run; the ledgers alternate within each run."""
    commits: list[str | None] = [None, *args.commits]
    figures: Figures = {}
    with broker() as bootstrap:
        for run_index in range(args.runs):
            for commit in commits:
                system = LedgerSystem(bootstrap, partitions=args.partitions,
                                      processes=args.processes, batch_max=args.batch_max,
                                      batch_timeout_ms=args.batch_timeout_ms, commit=commit)
                rates = figures.setdefault(system.name, {rate: [] for rate in args.rates})
                system.start()
                try:
                    for rate in args.rates:
                        values = latencies_at(system, bootstrap, rate, args.seconds)
                        row = {name: 1000 * percentile(values, q)
                               for name, q in QUANTILES.items()}
                        row["lost"] = sum(v == float("inf") for v in values)
                        rates[rate].append(row)
                        print(f"run {run_index + 1}/{args.runs} {system.name} {rate}/s: "
                              + ", ".join(f"{k} {v:,.1f}" for k, v in row.items()), flush=True)
                finally:
                    system.stop()
    return figures


def report(args: argparse.Namespace, all_figures: Figures) -> str:
    """The table, and the two figures the tutorial's issue asks for."""
    rows = []
    for name, by_rate in all_figures.items():
        for rate, runs in by_rate.items():
            rows.append((name, f"{rate:,}", *(median([r[q] for r in runs]) for q in QUANTILES),
                         " / ".join(f"{r['p99']:,.0f}" for r in runs)))
    text = table(["ledger", "offered postings/s", "p50 ms", "p99 ms", "p999 ms",
                  "p99 of each run"], rows)
    figures = all_figures["ledger"]
    text += (f"\n\n{args.runs} runs, {args.seconds:.0f} s per rate, open loop, "
             f"{args.partitions} partitions, batch {args.batch_max} records / "
             f"{args.batch_timeout_ms} ms, {args.processes} processor process(es); "
             "tran code ACH_CREDIT.")
    if 1000 in figures:
        p99 = median([r["p99"] for r in figures[1000]])
        text += f"\np99 at 1,000/s = {p99:,.1f} ms (goal <= 50 ms)"
    if 500 in figures:
        text += ("\nACH_CREDIT command-to-result latency at a steady 500/s: "
                 f"p50 {median([r['p50'] for r in figures[500]]):,.1f} ms, "
                 f"p99 {median([r['p99'] for r in figures[500]]):,.1f} ms")
    return text


def parser() -> argparse.ArgumentParser:
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--rates", type=int, nargs="+", default=[100, 500, 1000, 2000])
    p.add_argument("--seconds", type=float, default=15.0)
    p.add_argument("--partitions", type=int, default=6)
    # With two processes, about half the transaction ids have their registry partition in
    # the other process: their command waits for its answer (decision 0007).
    p.add_argument("--processes", type=int, default=1)
    p.add_argument("--batch-max", type=int, default=500)
    p.add_argument("--batch-timeout-ms", type=int, default=10)
    p.add_argument("--commits", nargs="*", default=[],
                   help="earlier commits whose processor is measured beside the working tree's")
    return p


def main(argv: list[str] | None = None) -> str:
    """Run, print and save."""
    args = parser().parse_args(argv)
    stop_on_sigterm()
    figures = run(args)
    text = report(args, figures)
    print(text, flush=True)
    name = "latency" if 1000 in args.rates else "latency-" + "-".join(map(str, args.rates))
    name += "" if args.processes == 1 else f"-{args.processes}-processes"
    save(name, {"settings": vars(args),
                "runs": {ledger: {str(k): v for k, v in by_rate.items()}
                         for ledger, by_rate in figures.items()},
                "report": text})
    return text


if __name__ == "__main__":
    main()
