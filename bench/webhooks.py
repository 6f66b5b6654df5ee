"""The webhook sink: events/s to a receiver that answers at once, and the delivery lag.

One ledger processor posts BOOK_TRANSFERs between customers (``--house-share`` of them are
the tutorial's ACH_CREDIT, which all touch the house account); each posting makes three
events (two ``balance.updated`` and a ``transaction.posted``). Events of one account are
sent one at a time, so a house account every posting touches caps the rate at one
round trip per event: the default measures the sink, not that key. The receiver is
an aiohttp server in its own process that answers 200 at once and notes each event's
arrival.

* **throughput**: a backlog of ``--postings`` postings is processed first; then the sink
  (``ledger sink webhook run``, its own process) starts at the earliest offsets, and the
  figure is events from the first arrival to the last;
* **lag**: with the sink running, postings are sent at ``--rate``/s for ``--seconds``; each
  event's lag runs from its record becoming visible to a read_committed consumer (the
  commit) to its arrival at the receiver, both on this machine's wall clock.

    python -m bench.webhooks --postings 20000 --rate 300 --seconds 20
"""

import argparse
import multiprocessing
import os
import subprocess
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import yaml
from confluent_kafka import Consumer, TopicPartition

from bench.broker import BENCH_HOME, REPO, broker, stop_on_sigterm
from bench.figures import percentile, save, table
from bench.measure import blast, producer, send_at_rate
from bench.systems import LedgerSystem
from connectors.webhooks.events import webhook_id
from streams.kafka_config import kafka_config
from streams.offsets import end_offset
from streams.reading import read_committed
from streams.topics import Topics

SECRET = "whsec_" + "YmVuY2htYXJrLXNlY3JldC1ieXRlcy0wMTIz"
SUBSCRIPTION = "bench"
EVENTS_PER_POSTING = 3


def _receive(port: int, arrivals: Path) -> None:
    """The receiver process: answer 200, append "<webhook-id> <unix time>" per request."""
    from aiohttp import web

    out = open(arrivals, "a", buffering=1 << 16)  # noqa: SIM115 (open for the process's life)

    async def handle(request: web.Request) -> web.Response:
        await request.read()
        out.write(f"{request.headers['webhook-id']} {time.time()}\n")
        return web.Response()

    async def flush() -> None:
        import asyncio

        while True:
            await asyncio.sleep(0.2)
            out.flush()

    async def start(app: web.Application) -> None:
        import asyncio

        app["flusher"] = asyncio.create_task(flush())

    app = web.Application()
    app.router.add_post("/hook", handle)
    app.on_startup.append(start)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


def _arrivals(path: Path) -> dict[str, float]:
    """First arrival of each webhook-id."""
    first: dict[str, float] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            parts = line.split()
            if len(parts) == 2:
                first.setdefault(parts[0], float(parts[1]))
    return first


class Visibility:
    """When each record of the source topics became visible to a read_committed consumer,
    keyed by the webhook-id the sink gives its event."""

    def __init__(self, bootstrap: str, topics: list[str], partitions: int) -> None:
        self._consumer = Consumer(kafka_config(bootstrap, {
            "group.id": f"bench-visible-{uuid.uuid4()}", "isolation.level": "read_committed",
            "enable.auto.commit": False, "fetch.wait.max.ms": 5,
        }))
        self._consumer.assign([TopicPartition(t, p, end_offset(self._consumer, t, p))
                               for t in topics for p in range(partitions)])
        self.seen: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            messages = self._consumer.consume(2000, timeout=0.05)
            now = time.time()
            for m in messages:
                if m.error() is None:
                    self.seen[webhook_id(SUBSCRIPTION, m.topic() or "", m.partition() or 0,
                                         m.offset() or 0)] = now

    def close(self) -> None:
        """Stop reading."""
        self._stop.set()
        self._thread.join(5)
        self._consumer.close()


def _wait(predicate: Any, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.1)


def run(args: argparse.Namespace) -> dict[str, Any]:
    """One run: the throughput and the lag percentiles."""
    home = BENCH_HOME / "runs" / f"webhooks-{uuid.uuid4().hex[:8]}"
    home.mkdir(parents=True, exist_ok=True)
    arrivals_file = home / "arrivals.txt"
    port = args.port
    receiver = multiprocessing.get_context("spawn").Process(
        target=_receive, args=(port, arrivals_file), daemon=True)
    receiver.start()
    with broker() as bootstrap:
        system = LedgerSystem(bootstrap, partitions=args.partitions, accounts=args.accounts,
                              house_share=args.house_share)
        system.start()
        sink: subprocess.Popen[bytes] | None = None
        try:
            topics = Topics(system.prefix, args.partitions)
            config = home / "webhooks.yaml"
            config.write_text(yaml.safe_dump({
                "subscriptions": [{"id": SUBSCRIPTION, "url": f"http://127.0.0.1:{port}/hook",
                                   "secret": SECRET, "start": "earliest",
                                   "events": ["balance.updated", "transaction.posted"]}],
                "max_concurrent_requests": args.concurrency}))
            out = producer(bootstrap)
            blast(out, system.commands, system.postings(args.postings))
            expected = args.postings * EVENTS_PER_POSTING
            _wait_outputs(bootstrap, topics, args.partitions, expected)
            with open(home / "sink.log", "ab") as log:
                sink = subprocess.Popen(
                    [str(REPO / ".venv" / "bin" / "ledger"), "sink", "webhook", "run",
                     "--config", str(config), "--bootstrap-servers", bootstrap,
                     "--topic-prefix", system.prefix],
                    stdout=log, stderr=subprocess.STDOUT, cwd=REPO,
                    env={**os.environ, "PYTHONUNBUFFERED": "1"})
            _wait(lambda: len(_arrivals(arrivals_file)) >= expected, 600,
                  f"{expected} events at the receiver")
            backlog = sorted(_arrivals(arrivals_file).values())
            rate = (len(backlog) - 1) / (backlog[-1] - backlog[0])
            print(f"throughput: {len(backlog):,} events in {backlog[-1] - backlog[0]:.2f}s = "
                  f"{rate:,.0f} events/s", flush=True)
            visible = Visibility(bootstrap, [topics.balances, topics.transactions],
                                 args.partitions)
            count = int(args.rate * args.seconds)
            send_at_rate(out, system.commands, system.postings(count), args.rate)
            total = expected + count * EVENTS_PER_POSTING
            _wait(lambda: len(_arrivals(arrivals_file)) >= total, 300,
                  f"{total} events at the receiver")
            time.sleep(0.5)
            visible.close()
            arrived = _arrivals(arrivals_file)
            lags = sorted(arrived[i] - t for i, t in visible.seen.items() if i in arrived)
        finally:
            if sink is not None:
                sink.terminate()
                sink.wait(60)
            system.stop()
            receiver.terminate()
    return {"events_per_s": rate, "backlog_events": len(backlog), "lag_events": len(lags),
            "lag_ms": {q: 1000 * percentile(lags, v) for q, v in
                       (("p50", 0.5), ("p99", 0.99), ("max", 1.0))}}


def _wait_outputs(bootstrap: str, topics: Topics, partitions: int, expected: int) -> None:
    """Wait until the backlog's balance and transaction records are all committed, so the
    sink is measured and not the processor."""
    def committed() -> int:
        return sum(1 for t in (topics.balances, topics.transactions)
                   for _ in read_committed(bootstrap, t, range(partitions)))
    _wait(lambda: committed() >= expected, 900, "the processor to post the backlog")


def main(argv: list[str] | None = None) -> str:
    """Run, print and save."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--postings", type=int, default=20_000)
    p.add_argument("--rate", type=float, default=300.0, help="postings/s in the lag phase")
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument("--partitions", type=int, default=6)
    p.add_argument("--accounts", type=int, default=1000)
    p.add_argument("--house-share", type=float, default=0.0,
                   help="share of postings that touch the house account (one hot key)")
    p.add_argument("--concurrency", type=int, default=64, help="max_concurrent_requests")
    p.add_argument("--port", type=int, default=18731)
    args = p.parse_args(argv)
    stop_on_sigterm()
    figures = run(args)
    lag = figures["lag_ms"]
    text = table(["events/s (backlog)", "lag p50 ms", "lag p99 ms", "lag max ms"],
                 [(figures["events_per_s"], lag["p50"], lag["p99"], lag["max"])])
    text += (f"\n\n{figures['backlog_events']:,} backlog events ({args.postings:,} postings "
             f"x {EVENTS_PER_POSTING}, {args.house_share:.0%} of them on the house account); "
             f"lag over {figures['lag_events']:,} events at "
             f"{args.rate:,.0f} postings/s for {args.seconds:.0f}s; {args.partitions} "
             f"partitions, {args.concurrency} concurrent requests; goal >= 2,000 events/s.")
    print(text, flush=True)
    save("webhooks", {"settings": vars(args), "figures": figures, "report": text})
    return text


if __name__ == "__main__":
    main()
