"""Latency of postTransaction through the GraphQL API at a steady offered load (open loop).

Each run starts a fresh ledger of 1,000 customers with one processor process, and one API
process (``ApiProcess``: the server of ``ledger api serve`` in a process of its own, so that
the load generator does not share its interpreter). The sender posts the tutorial's
ACH_CREDIT for a random customer, asking for what the tutorial's PostDeposit document asks
for (the transaction, its entries and their accounts' names), on a fixed schedule whatever
the API does. Each latency runs
from the request's scheduled send time to the arrival of its HTTP response, on the
sender's clock, so a sender or server that falls behind shows up as latency. A warm-up
precedes each measured window; figures are medians over runs of each run's percentile,
with the CPU the API and processor processes used (100% is one core). Timing is printed,
never asserted.

    python -m bench.api.latency --runs 5 --rates 50 100 200 --seconds 20
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import sys
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from bench.broker import broker, stop_on_sigterm
from bench.figures import median, percentile, save, table
from bench.systems import LedgerSystem, keep_log
from bench.workload import EFFECTIVE
from connectors.graphql_api import ApiProcess

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


class Connections:
    """Keep-alive HTTP/1.1 connections to the API, reused newest first.

    A minimal client on asyncio streams: httpx costs the sender several milliseconds of CPU
    a request, which on a 2-core machine is taken from the system under test. The API always
    answers with a content-length, which is all this client needs.
    """

    def __init__(self, url: str) -> None:
        parts = urllib.parse.urlsplit(url)
        self.host, self.port, self.path = parts.hostname or "", parts.port or 80, parts.path
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def post(self, body: bytes) -> bytes:
        """POST ``body`` as JSON; the response body (an error for any status but 200)."""
        reused = bool(self._idle)
        connection = self._idle.pop() if reused else await asyncio.open_connection(
            self.host, self.port)
        try:
            answer = await self._exchange(connection, body)
        except (ConnectionError, asyncio.IncompleteReadError):
            connection[1].close()
            if not reused:
                raise
            # The server closed an idle connection (keep-alive timeout): use a new one.
            return await self.post(body)
        self._idle.append(connection)
        return answer

    async def _exchange(self, connection: tuple[asyncio.StreamReader, asyncio.StreamWriter],
                        body: bytes) -> bytes:
        reader, writer = connection
        writer.write(f"POST {self.path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Type: "
                     f"application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body)
        status = await reader.readline()
        if not status:
            raise ConnectionResetError("the server closed the connection")
        length = 0
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        payload = await reader.readexactly(length)
        if status.split()[1] != b"200":
            raise ConnectionError(f"HTTP {status.decode().strip()}: {payload[:200]!r}")
        return payload

    def close(self) -> None:
        """Close every idle connection."""
        for _reader, writer in self._idle:
            writer.close()
        self._idle.clear()


async def offered(url: str, customers: list[str], rate: float, seconds: float,
                  rng: random.Random) -> Window:
    """Send ``rate`` postings a second for ``seconds`` on a fixed schedule; their latencies."""
    window = Window()
    connections = Connections(url)

    async def post(scheduled: float) -> None:
        cents = rng.randint(1, 99_999)
        variables = {"id": str(uuid.uuid4()), "account": rng.choice(customers),
                     "amount": f"{cents // 100}.{cents % 100:02d}", "effective": EFFECTIVE}
        body = json.dumps({"query": POST_DEPOSIT, "variables": variables}).encode()
        try:
            answer = json.loads(await connections.post(body))
        except (OSError, ValueError, asyncio.IncompleteReadError) as exc:
            window.errors.append(repr(exc))
            return
        if answer.get("errors"):
            window.errors.append(str(answer["errors"][0]))
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
    connections.close()
    return window


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def one_run(bootstrap: str, args: argparse.Namespace, seed: int) -> dict[float, dict[str, float]]:
    """A fresh ledger and API; per rate, the percentiles (ms) of one measured window."""
    system = LedgerSystem(bootstrap, partitions=args.partitions, accounts=args.accounts)
    system.start()
    api = ApiProcess(bootstrap, system.prefix, system.home / "api.log")
    rows: dict[float, dict[str, float]] = {}
    try:
        url = api.start().url
        customers = [str(account.account_id) for account in system.accounts]
        rng = random.Random(seed)
        processor = system.processors[0].pid
        assert processor is not None, "the processor is not running"
        processes = {"api_cpu": api.pid, "processor_cpu": processor}
        for rate in args.rates:
            asyncio.run(offered(url, customers, rate, args.warmup, rng))
            used = {name: cpu_seconds(pid) for name, pid in processes.items()}
            began = time.monotonic()
            window = asyncio.run(offered(url, customers, rate, args.seconds, rng))
            elapsed = time.monotonic() - began
            values = sorted(window.latencies)
            row = {name: 1000 * percentile(values, q) for name, q in QUANTILES.items()}
            row["max"] = 1000 * values[-1] if values else math.nan
            row["failed"] = len(window.errors)
            row.update({name: 100 * (cpu_seconds(pid) - used[name]) / elapsed
                        for name, pid in processes.items()})
            rows[rate] = row
            if window.errors:
                print(f"  {len(window.errors)} failed at {rate:g}/s; first: {window.errors[0]}")
    finally:
        api.stop()
        keep_log(api.log_file, f"{system.prefix}-api")
        system.stop()
    return rows


COLUMNS = (*QUANTILES, "max", "failed", "api_cpu", "processor_cpu")


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(prog="python -m bench.api.latency", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rates", type=float, nargs="+", default=[200.0],
                        help="postings per second, each held for --seconds")
    parser.add_argument("--seconds", type=float, default=20.0, help="measured window")
    parser.add_argument("--warmup", type=float, default=5.0, help="unmeasured lead-in")
    parser.add_argument("--partitions", type=int, default=6)
    parser.add_argument("--accounts", type=int, default=1000)
    args = parser.parse_args()
    stop_on_sigterm()
    runs: list[dict[float, dict[str, float]]] = []
    with broker() as bootstrap:
        for index in range(args.runs):
            runs.append(one_run(bootstrap, args, seed=index + 1))
            for rate, row in runs[-1].items():
                print(f"run {index + 1}/{args.runs} at {rate:g}/s: "
                      + ", ".join(f"{k} {v:,.1f}" for k, v in row.items()), flush=True)
    medians = {rate: {name: median([run[rate][name] for run in runs]) for name in COLUMNS}
               for rate in args.rates}
    print()
    print(table(["offered postings/s", *(f"{q} ms" for q in QUANTILES), "max ms", "failed",
                 "API CPU % of a core", "processor CPU %", "p99 of each run"],
                [(f"{rate:g}", *(medians[rate][name] for name in COLUMNS),
                  " / ".join(f"{run[rate]['p99']:,.0f}" for run in runs))
                 for rate in args.rates]))
    path = save("api-latency", {"command": " ".join(["python -m bench.api.latency",
                                                     *sys.argv[1:]]),
                                "settings": vars(args), "runs": runs, "medians": medians})
    print(f"\nfigures saved to {path}")


if __name__ == "__main__":
    main()
