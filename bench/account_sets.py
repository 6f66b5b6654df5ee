"""Account sets: postings/s when every customer's entries roll up into 0, 1 or 2 sets.

Every posting is an ACH_CREDIT from the house account to a customer. At depth 1 every
customer is in one set, which is as popular as a set can be: each posting adds a fold on
the set's partition, as a local fold where the posting's partition owns the set and as a
leg from every other partition. At depth 2 that set holds ten group sets and each customer
is in one group, so each posting adds two folds. The baseline is depth 0, measured in the
same run.

    python -m bench.account_sets --runs 3 --depths 0 1 2
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
    p.add_argument("--depths", type=int, nargs="+", default=[0, 1, 2], choices=[0, 1, 2])
    p.add_argument("--partitions", type=int, default=6)
    p.add_argument("--batch-max", type=int, default=500)
    p.add_argument("--batch-timeout-ms", type=int, default=10)
    args = p.parse_args(argv)
    stop_on_sigterm()
    text = ledger_sweep(
        "account_sets", "sets per entry", args.depths, args.runs, args.postings,
        lambda bootstrap, depth: LedgerSystem(
            bootstrap, partitions=args.partitions, batch_max=args.batch_max,
            batch_timeout_ms=args.batch_timeout_ms, set_depth=depth), vars(args))
    text += (f"\n\n{args.runs} runs, {args.postings:,} postings per run, one processor "
             f"process, {args.partitions} partitions, batch {args.batch_max} / "
             f"{args.batch_timeout_ms} ms.")
    print(text, flush=True)
    return text


if __name__ == "__main__":
    main()
