"""Latency of postTransaction through the GraphQL API at a steady offered load (open loop).

Each run starts a fresh ledger of 1,000 customers with one processor process, and one API
process (``ApiProcess``: the server of ``ledger api serve`` in a process of its own, so that
the load generator does not share its interpreter). The sender posts the tutorial's
ACH_CREDIT for a random customer, asking for what the tutorial's PostDeposit document asks
for (the transaction, its entries and their accounts' names), on a fixed schedule whatever
the API does. Each latency runs
from the request's scheduled send time to the arrival of its HTTP response, on the
sender's clock, so a sender or server that falls behind shows up as latency. A warm-up
precedes the measured window; figures are medians over runs of each run's percentile.
Timing is printed, never asserted.

    python -m bench.api.latency --runs 5 --rate 200 --seconds 20
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
import uuid
from dataclasses import dataclass, field

import httpx

from bench.broker import broker, stop_on_sigterm
from bench.figures import median, percentile, save, table
from bench.systems import LedgerSystem, keep_log
from bench.workload import EFFECTIVE
from connectors.graphql_api import ApiProcess
from streams.errors import LedgerError

POST_DEPOSIT = """
mutation PostDeposit($id: UUID!, $account: String!, $amount: String!, $effective: String!) {
  postTransaction(input: {transactionId: $id, tranCode: "ACH_CREDIT",
                          params: {account: $account, amount: $amount, effective: $effective}}) {
    transactionId tranCodeId effective
    entries(first: 2) { nodes { units direction account { name } } }
  }
}
"""
QUANTILES = {"p50": 0.50, "p90": 0.90, "p99": 0.99}


@dataclass
class Window:
    """The latencies (s) of one measured window, and what went wrong in it."""

    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    sent: int = 0


async def offered(url: str, customers: list[str], rate: float, seconds: float,
                  rng: random.Random) -> Window:
    """Send ``rate`` postings a second for ``seconds`` on a fixed schedule; their latencies."""
    window = Window()
    limits = httpx.Limits(max_connections=512, max_keepalive_connections=512)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:

        async def post(scheduled: float) -> None:
            cents = rng.randint(1, 99_999)
            variables = {"id": str(uuid.uuid4()), "account": rng.choice(customers),
                         "amount": f"{cents // 100}.{cents % 100:02d}", "effective": EFFECTIVE}
            try:
                response = await client.post(url, json={"query": POST_DEPOSIT,
                                                        "variables": variables})
                body = response.json()
            except (httpx.HTTPError, ValueError) as exc:
                window.errors.append(repr(exc))
                return
            if body.get("errors"):
                window.errors.append(str(body["errors"][0]))
                return
            window.latencies.append(time.monotonic() - scheduled)

        tasks = []
        start = time.monotonic() + 0.1
        for index in range(int(rate * seconds)):
            scheduled = start + index / rate
            await asyncio.sleep(max(0.0, scheduled - time.monotonic()))
            tasks.append(asyncio.create_task(post(scheduled)))
            window.sent += 1
        await asyncio.gather(*tasks)
    return window


def one_run(bootstrap: str, args: argparse.Namespace, seed: int) -> dict[str, float]:
    """A fresh ledger and API; the percentiles (ms) of one measured window."""
    system = LedgerSystem(bootstrap, partitions=args.partitions, accounts=args.accounts)
    system.start()
    api = ApiProcess(bootstrap, system.prefix, system.home / "api.log")
    try:
        url = api.start().url
        customers = [str(account.account_id) for account in system.accounts]
        rng = random.Random(seed)
        asyncio.run(offered(url, customers, args.rate, args.warmup, rng))
        window = asyncio.run(offered(url, customers, args.rate, args.seconds, rng))
    finally:
        api.stop()
        keep_log(api.log_file, f"{system.prefix}-api")
        system.stop()
    if window.errors:
        raise LedgerError(f"{len(window.errors)} of {window.sent} postings failed; first: "
                          f"{window.errors[0]}")
    values = sorted(window.latencies)
    row = {name: 1000 * percentile(values, q) for name, q in QUANTILES.items()}
    row["max"] = 1000 * values[-1]
    return row


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(prog="python -m bench.api.latency", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rate", type=float, default=200.0, help="postings per second")
    parser.add_argument("--seconds", type=float, default=20.0, help="measured window")
    parser.add_argument("--warmup", type=float, default=5.0, help="unmeasured lead-in")
    parser.add_argument("--partitions", type=int, default=6)
    parser.add_argument("--accounts", type=int, default=1000)
    args = parser.parse_args()
    stop_on_sigterm()
    runs = []
    with broker() as bootstrap:
        for index in range(args.runs):
            row = one_run(bootstrap, args, seed=index + 1)
            runs.append(row)
            print(f"run {index + 1}/{args.runs} at {args.rate:g}/s: "
                  + ", ".join(f"{k} {v:,.1f} ms" for k, v in row.items()), flush=True)
    medians = {name: median([run[name] for run in runs]) for name in (*QUANTILES, "max")}
    print()
    print(table(["offered postings/s", *(f"{q} ms" for q in QUANTILES), "max ms",
                 "p99 of each run"],
                [(f"{args.rate:g}", *(medians[q] for q in QUANTILES), medians["max"],
                  " / ".join(f"{run['p99']:.0f}" for run in runs))]))
    path = save("api-latency", {"command": " ".join(["python -m bench.api.latency",
                                                     *sys.argv[1:]]),
                                "rate": args.rate, "seconds": args.seconds, "runs": runs,
                                "medians": medians})
    print(f"\nfigures saved to {path}")


if __name__ == "__main__":
    main()
