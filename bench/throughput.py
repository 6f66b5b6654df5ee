"""Throughput of 2-leg postings with exactly-once, next to three baselines in the same run.

Systems, on the same broker, with the same partitions, batch size and batch timeout:

* ``ledger``: the ledger processor (one process) posting the tutorial's ACH_CREDIT;
* ``passthrough``: a plain exactly-once consume -> produce copy (the ceiling);
* ``passthrough x7``: the same, writing 7 records per input as a posting does (informative);
* ``faust`` and ``quixstreams``: the same balance fold written on each framework;
* ``ledger@<commit>``: the processor of an earlier commit (``--commits``), checked out
  beside the working tree, so a change is measured against its starting point in one run.

Each run starts every system on fresh topics, warms it up, sends a backlog of postings as
fast as the producer takes them and times first send -> last output visible to a
read_committed consumer (the result and both balance records of every posting). Runs
alternate the systems, so machine noise spreads over all of them; figures are medians.

    python -m bench.throughput --runs 5 --postings 20000
"""

import argparse
from collections.abc import Callable

from bench.broker import broker, stop_on_sigterm
from bench.figures import median, save, table
from bench.measure import backlog_rate
from bench.systems import AppSystem, LedgerSystem, System

SYSTEMS = ("ledger", "passthrough", "passthrough x7", "faust", "quixstreams")


def factories(bootstrap: str, args: argparse.Namespace) -> dict[str, Callable[[], System]]:
    """How to build each system with the run's settings."""
    common = {"partitions": args.partitions, "batch_max": args.batch_max,
              "batch_timeout_ms": args.batch_timeout_ms, "accounts": args.accounts}
    earlier = {f"ledger@{commit}": _at(bootstrap, commit, common) for commit in args.commits}
    return {
        **earlier,
        "ledger": lambda: LedgerSystem(bootstrap, **common),
        "passthrough": lambda: AppSystem(bootstrap, "passthrough", **common),
        "passthrough x7": lambda: AppSystem(bootstrap, "passthrough", fanout=7, **common),
        "faust": lambda: AppSystem(bootstrap, "faust", **common),
        "quixstreams": lambda: AppSystem(bootstrap, "quixstreams", **common),
    }


def _at(bootstrap: str, commit: str, common: dict[str, int]) -> Callable[[], System]:
    return lambda: LedgerSystem(bootstrap, commit=commit, **common)


def postings_for(name: str, args: argparse.Namespace) -> int:
    """A backlog of a few seconds or more for each: faust gets a quarter (it is slow), the
    pass-throughs five times as many (they are fast, and a short run measures the sender)."""
    postings = int(args.postings)
    if name == "faust":
        return postings // 4
    if name.startswith("passthrough"):
        return postings * 5
    return postings


def run(args: argparse.Namespace) -> dict[str, list[float]]:
    """Every run of every system; postings/s per system."""
    rates: dict[str, list[float]] = {name: [] for name in args.systems}
    with broker() as bootstrap:
        build = factories(bootstrap, args)
        for run_index in range(args.runs):
            for name in args.systems:
                system = build[name]()
                system.start()
                try:
                    rate = backlog_rate(system, bootstrap, postings_for(name, args))
                finally:
                    system.stop()
                rates[name].append(rate)
                print(f"run {run_index + 1}/{args.runs} {name}: {rate:,.0f} postings/s "
                      f"({system.markers:,} transaction markers on the results topic)",
                      flush=True)
    return rates


def report(args: argparse.Namespace, rates: dict[str, list[float]]) -> str:
    """The table and the ratios."""
    medians = {name: median(values) for name, values in rates.items()}
    ceiling = medians.get("passthrough", float("nan"))
    ledger = medians.get("ledger", float("nan"))
    rows = [(name, medians[name], " ".join(f"{v:,.0f}" for v in rates[name]),
             medians[name] / ceiling, ledger / medians[name]) for name in rates]
    text = table(["system", "postings/s (median)", "runs", "x pass-through", "ledger / this"],
                 rows)
    text += (f"\n\n{args.runs} runs, {args.postings:,} postings per run ({args.postings // 4:,} "
             f"for faust, {args.postings * 5:,} for the pass-throughs), {args.partitions} "
             f"partitions, batch {args.batch_max} records / {args.batch_timeout_ms} ms, "
             f"{args.accounts} customers; tran code ACH_CREDIT.")
    goals = {"passthrough": "goal >= 0.5", "faust": "goal > 1", "quixstreams": "goal > 1"}
    for other, goal in goals.items():
        if other in medians and "ledger" in medians:
            paired = median([a / b for a, b in zip(rates["ledger"], rates[other], strict=True)])
            text += (f"\nledger / {other} = {ledger / medians[other]:.2f} of the medians, "
                     f"{paired:.2f} as the median of each run's ratio ({goal})")
    if "ledger" in medians:
        text += (f"\nACH_CREDIT postings/s with exactly-once (tutorial tran code): "
                 f"{ledger:,.0f}")
    return text


def parser() -> argparse.ArgumentParser:
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--postings", type=int, default=20_000)
    p.add_argument("--partitions", type=int, default=6)
    p.add_argument("--batch-max", type=int, default=500)
    p.add_argument("--batch-timeout-ms", type=int, default=10)
    p.add_argument("--accounts", type=int, default=1000)
    p.add_argument("--systems", nargs="+", default=list(SYSTEMS), choices=SYSTEMS)
    p.add_argument("--commits", nargs="*", default=[],
                   help="earlier commits whose processor runs beside the working tree's")
    return p


def main(argv: list[str] | None = None) -> str:
    """Run, print and save."""
    args = parser().parse_args(argv)
    args.systems = [*args.systems, *(f"ledger@{commit}" for commit in args.commits)]
    stop_on_sigterm()
    rates = run(args)
    text = report(args, rates)
    print(text, flush=True)
    save("throughput", {"settings": vars(args), "rates": rates, "report": text})
    return text


if __name__ == "__main__":
    main()
