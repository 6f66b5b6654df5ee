"""Hot accounts: postings/s as the share of postings that touch the house account goes
from 0% to 100%.

A posting either credits a customer from the house ASSETS account (ACH_CREDIT, keyed by the
customer, the house leg going to the house's partition) or moves money between two customers
(BOOK_TRANSFER, keyed by the payer, the payee's leg going to the payee's partition). The
number of records is the same either way; what changes is how many legs converge on the one
partition that owns the house. Two processor processes, so that partition's owner can fall
behind the other.

    python -m bench.hot_accounts --runs 3 --shares 0 25 50 75 100
"""

import argparse

from bench.broker import broker, stop_on_sigterm
from bench.figures import median, save, table
from bench.measure import backlog_rate
from bench.systems import LedgerSystem


def main(argv: list[str] | None = None) -> str:
    """Run, print and save."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--postings", type=int, default=20_000)
    p.add_argument("--shares", type=int, nargs="+", default=[0, 25, 50, 75, 100])
    p.add_argument("--processes", type=int, default=2)
    p.add_argument("--partitions", type=int, default=6)
    p.add_argument("--batch-max", type=int, default=500)
    p.add_argument("--batch-timeout-ms", type=int, default=10)
    args = p.parse_args(argv)
    stop_on_sigterm()
    rates: dict[int, list[float]] = {share: [] for share in args.shares}
    with broker() as bootstrap:
        for run_index in range(args.runs):
            for share in args.shares:
                system = LedgerSystem(bootstrap, partitions=args.partitions,
                                      processes=args.processes, batch_max=args.batch_max,
                                      batch_timeout_ms=args.batch_timeout_ms,
                                      house_share=share / 100)
                system.start()
                try:
                    rates[share].append(backlog_rate(system, bootstrap, args.postings))
                finally:
                    system.stop()
                print(f"run {run_index + 1}/{args.runs} house share {share}%: "
                      f"{rates[share][-1]:,.0f} postings/s", flush=True)
    base = median(rates[args.shares[0]])
    rows = [(f"{share}%", median(r), " ".join(f"{x:,.0f}" for x in r), median(r) / base)
            for share, r in rates.items()]
    text = table(["house share", "postings/s (median)", "runs",
                  f"x {args.shares[0]}% share"], rows)
    text += (f"\n\n{args.runs} runs, {args.postings:,} postings per run, {args.processes} "
             f"processor processes, {args.partitions} partitions, batch {args.batch_max} / "
             f"{args.batch_timeout_ms} ms.")
    print(text, flush=True)
    save("hot_accounts", {"settings": vars(args), "rates": {str(k): v for k, v in rates.items()},
                          "report": text})
    return text


if __name__ == "__main__":
    main()
