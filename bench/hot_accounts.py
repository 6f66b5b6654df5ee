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

from bench.broker import stop_on_sigterm
from bench.measure import ledger_sweep
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
    text = ledger_sweep(
        "hot_accounts", "house share %", args.shares, args.runs, args.postings,
        lambda bootstrap, share: LedgerSystem(
            bootstrap, partitions=args.partitions, processes=args.processes,
            batch_max=args.batch_max, batch_timeout_ms=args.batch_timeout_ms,
            house_share=share / 100), vars(args))
    text += (f"\n\n{args.runs} runs, {args.postings:,} postings per run, {args.processes} "
             f"processor processes, {args.partitions} partitions, batch {args.batch_max} / "
             f"{args.batch_timeout_ms} ms.")
    print(text, flush=True)
    return text


if __name__ == "__main__":
    main()
