"""Catalog writes through the GraphQL API: how long a createAccount takes, one after another
and six in one document, and how many accounts concurrent clients, and createAccounts, open
per second.

Each run starts a fresh ledger with one processor process (the catalog desk runs in it) and
one API process, and for each ledger (the working tree's and, with ``--commits``, the
processor of each commit given, checked out beside it, behind the same API) measures:

- ``createAccount`` alone, ``--sequential`` times, each sent once the last one answered;
- a document of six ``createAccount`` mutations, ``--documents`` times;
- ``--accounts`` accounts opened by ``--clients`` clients at once, each sending its next
  ``createAccount`` when its last one answered;
- ``--bulk`` accounts opened by ``createAccounts`` requests of 1,000, one after another.

Figures are medians over runs. Timing is printed, never asserted.

    python -m bench.api.catalog_writes --runs 3 --commits 48f82c7
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from typing import Any

import httpx

from bench.broker import broker, stop_on_sigterm
from bench.figures import median, percentile, save, table
from bench.systems import LedgerSystem, keep_log
from connectors.graphql_api import ApiProcess

CREATE = """
mutation Open($input: AccountInput!) { createAccount(input: $input) { accountId code } }
"""
MANY = """
mutation OpenMany($input: [AccountInput!]!) { createAccounts(input: $input) { accountId } }
"""
SIX = ("mutation OpenSix(" + ", ".join(f"$a{n}: AccountInput!" for n in range(6)) + ") { "
       + " ".join(f"a{n}: createAccount(input: $a{n}) {{ accountId }}" for n in range(6)) + " }")


def account_input() -> dict[str, str]:
    """A new customer account."""
    account_id = uuid.uuid4()
    return {"accountId": str(account_id), "code": f"ONBOARD.{account_id.hex}",
            "name": f"Customer {account_id.hex[:8]}"}


async def send(http: httpx.AsyncClient, url: str, query: str, variables: dict[str, Any]
               ) -> float:
    """Seconds from sending the document to its answer, which must carry no error."""
    began = time.perf_counter()
    answer = (await http.post(url, json={"query": query, "variables": variables})).json()
    elapsed = time.perf_counter() - began
    if "errors" in answer:
        raise RuntimeError(f"the API refused a catalog write: {answer['errors'][0]}")
    return elapsed


async def measure(url: str, args: argparse.Namespace) -> dict[str, float]:
    """One ledger's figures."""
    async with httpx.AsyncClient(timeout=120) as http:
        await send(http, url, CREATE, {"input": account_input()})  # warm-up
        alone = [await send(http, url, CREATE, {"input": account_input()})
                 for _ in range(args.sequential)]
        six = [await send(http, url, SIX, {f"a{n}": account_input() for n in range(6)})
               for _ in range(args.documents)]
        remaining = args.accounts

        async def client() -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                await send(http, url, CREATE, {"input": account_input()})

        began = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(args.clients)))
        onboarding = time.perf_counter() - began
        bulk = 0.0
        for start in range(0, args.bulk, 1000):
            bulk += await send(http, url, MANY, {"input": [
                account_input() for _ in range(min(1000, args.bulk - start))]})
    alone.sort()
    return {"alone_p50_ms": 1000 * percentile(alone, 0.5),
            "alone_p99_ms": 1000 * percentile(alone, 0.99),
            "six_p50_ms": 1000 * median(six),
            "accounts_per_s": args.accounts / onboarding,
            "bulk_accounts_per_s": args.bulk / bulk}


def one_run(bootstrap: str, args: argparse.Namespace) -> dict[str, dict[str, float]]:
    """Every ledger's figures in one run."""
    figures: dict[str, dict[str, float]] = {}
    for commit in [None, *args.commits]:
        system = LedgerSystem(bootstrap, accounts=10, commit=commit)
        system.start()
        api = ApiProcess(bootstrap, system.prefix, system.home / "api.log")
        try:
            figures[system.name] = asyncio.run(measure(api.start().url, args))
        finally:
            api.stop()
            keep_log(api.log_file, f"{system.prefix}-api")
            system.stop()
        print(f"  {system.name}: " + ", ".join(f"{k} {v:,.0f}"
                                               for k, v in figures[system.name].items()),
              flush=True)
    return figures


COLUMNS = ("alone_p50_ms", "alone_p99_ms", "six_p50_ms", "accounts_per_s",
           "bulk_accounts_per_s")


def main(argv: list[str] | None = None) -> str:
    """Run the benchmark; print, save and return its figures."""
    parser = argparse.ArgumentParser(prog="python -m bench.api.catalog_writes",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sequential", type=int, default=50)
    parser.add_argument("--documents", type=int, default=10)
    parser.add_argument("--accounts", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--bulk", type=int, default=10_000)
    parser.add_argument("--commits", nargs="*", default=[],
                        help="also measure the processor of these commits")
    args = parser.parse_args(argv)
    stop_on_sigterm()
    runs = []
    with broker() as bootstrap:
        for number in range(args.runs):
            print(f"run {number + 1}/{args.runs}", flush=True)
            runs.append(one_run(bootstrap, args))
    names = list(runs[0])
    rows = [(name, *(median([run[name][column] for run in runs]) for column in COLUMNS))
            for name in names]
    report = table(["ledger", "createAccount p50 ms", "p99 ms", "6 in one document p50 ms",
                    f"accounts/s ({args.clients} clients)", "accounts/s (createAccounts)"],
                   rows)
    if len(names) > 1:
        base = median([run[names[1]]["accounts_per_s"] for run in runs])
        report += (f"\n\n{names[0]} / {names[1]}: "
                   f"{median([run[names[0]]['accounts_per_s'] for run in runs]) / base:.1f} times "
                   "the accounts per second")
    report += f"\n\n{args.runs} runs; medians over runs."
    print(report, flush=True)
    save("api_catalog_writes", {"settings": vars(args), "runs": runs, "report": report})
    return report


if __name__ == "__main__":
    main()
