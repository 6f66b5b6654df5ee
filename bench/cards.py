"""Card authorization round trip at steady offered loads (open loop): an 0100 sent on a TCP
connection to the ISO 8583 server, to its 0110 received, p50 / p99 / p999.

Each run starts a fresh ledger with one processor process and a card program of
``--cardholders`` funded accounts, each with a no-overdraft limit on available(PENDING) and
a card, then the authorization server (``ledger cards iso8583 serve``) in a process of its
own, so the network's side does not share its interpreter. For each rate:

1. the ledger's own part, as ``bench.latency`` measures it (``latencies_at``): CARD_HOLD
   commands, the very command the server sends for an 0100, straight to the commands topic,
   from their scheduled send time to their result visible to a read_committed consumer;
2. the round trip: 0100s for random cardholders on ``--connections`` TCP connections, from
   each one's scheduled send time to the arrival of its 0110, on the sender's clock.

Both are open loop: a sender or a server that falls behind shows up as latency. The
server's log of each decision gives the engine's part of a round trip (the card lookup, the
command, its result routed back); the front door's part is the rest, message by message
(TCP, framing, decoding, validation, the response). Figures are medians over runs of each
run's percentile. Timing is printed, never asserted.

    python -m bench.cards --runs 3 --rates 100 200 500 --seconds 15
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import math
import random
import re
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.api.latency import cpu_seconds
from bench.broker import broker, stop_on_sigterm
from bench.figures import median, percentile, save, table
from bench.latency import QUANTILES
from bench.measure import latencies_at
from bench.systems import LedgerSystem, keep_log
from bench.workload import Posting
from connectors.cards.iso_client import Iso8583Client, Purchase
from connectors.cards.process import Iso8583Process
from iso8583_spec import codes
from iso8583_spec.reading import message_key
from iso8583_spec.validation import luhn_valid
from ledger_core import PostTransaction, VelocityLimit, card_lifecycle
from ledger_core.cards import Card, card_from_pan
from ledger_core.catalog import CatalogKind
from schemas import mapping
from schemas.codec import codec
from streams.client import LedgerClient
from streams.errors import LedgerError
from streams.kafka_config import use_config_file
from streams.outputs import command_key
from streams.partitioning import account_key, owner_partition
from streams.topics import Topics

PAN_KEY = b"the card benchmark's own PAN key, 32+ bytes"
GOAL_RATE, GOAL_P99_MS = 200, 100.0
SPEC = "ascii"
SETUP_TIMEOUT_S = 300.0
# Only an 0110 that never comes counts as lost; the engine answers 91 at its deadline.
ANSWER_TIMEOUT_S = 60.0
# The engine logs each decision with the message's key and its own time (ms).
_DECIDED = re.compile(r"card AUTHORIZATION (\S+): .* in ([\d.]+) ms$", re.MULTILINE)
# STANs and RRNs never repeat within a benchmark: a repeated key would be answered from
# the engine's memory of the first decision, without booking anything.
_numbers = itertools.count(1)


def pan(rng: random.Random) -> str:
    """A 16-digit PAN with a valid check digit."""
    body = "4" + "".join(rng.choice("0123456789") for _ in range(14))
    return next(body + d for d in "0123456789" if luhn_valid(body + d))


def cents(rng: random.Random) -> Decimal:
    """An amount between 1.00 and 50.00."""
    return Decimal(rng.randint(100, 5_000)) / 100


class CardLedger(LedgerSystem):
    """The benchmark's ledger with every customer a funded cardholder; its postings are the
    CARD_HOLD commands the server sends for an 0100."""

    def __init__(self, bootstrap: str, args: argparse.Namespace, seed: int) -> None:
        super().__init__(bootstrap, partitions=args.partitions, batch_max=args.batch_max,
                         batch_timeout_ms=args.batch_timeout_ms, accounts=args.cardholders)
        self.funds = Decimal(args.funds)
        self.rng = random.Random(seed)
        self.pans = [pan(self.rng) for _ in self.accounts]

    def start(self) -> None:
        """The ledger, then the card program on it."""
        super().start()
        client = LedgerClient(self.bootstrap, Topics(self.prefix, self.partitions))
        try:
            _wait_all(client, [client.send_catalog(kind, body) for kind, body in self._program()])
            _wait_all(client, [client.send_post(uuid.uuid4(), "DEPOSIT",
                                                {"account": str(a.account_id),
                                                 "amount": str(self.funds)}, a.account_id)
                               for a in self.accounts])
        finally:
            client.close()

    def _program(self) -> list[tuple[CatalogKind, dict[str, Any]]]:
        """The card accounts and tran codes, and each cardholder's limit and card."""
        def body(entity: Any) -> dict[str, Any]:
            return dict(entity.model_dump(mode="json", by_alias=True))

        program = [(CatalogKind.CREATE_ACCOUNT, body(a))
                   for a in (card_lifecycle.CASH, card_lifecycle.SETTLEMENT)]
        program += [(CatalogKind.CREATE_TRAN_CODE, body(c)) for c in card_lifecycle.TRAN_CODES]
        for account, number in zip(self.accounts, self.pans, strict=True):
            card = card_from_pan(uuid.uuid4(), account.account_id, number, PAN_KEY)
            assert isinstance(card, Card), card
            program += [(CatalogKind.CREATE_LIMIT,
                         body(VelocityLimit.no_overdraft(account.account_id))),
                        (CatalogKind.CREATE_CARD, body(card))]
        return program

    def expected(self, postings: int) -> dict[str, int]:
        """A result per hold; a declined hold writes no balance, so balances are not counted."""
        return {self.results: postings}

    def postings(self, count: int) -> list[Posting]:
        """``count`` CARD_HOLD commands, as the engine sends them, for random cardholders."""
        sent_at = datetime.now(UTC)
        return [self._hold(sent_at) for _ in range(count)]

    def _hold(self, sent_at: datetime) -> Posting:
        account = self.rng.choice(self.accounts).account_id
        hold = uuid.UUID(int=self.rng.getrandbits(128), version=4)
        command = PostTransaction(transaction_id=hold, tran_code="CARD_HOLD",
                                  params={"account": str(account),
                                          "amount": str(cents(self.rng)),
                                          "currency": "USD", "correlationId": str(hold)})
        command_id = str(uuid.uuid4())
        record = mapping.command_record(command, command_id, sent_at)
        return Posting("commands", owner_partition(account, self.partitions),
                       account_key(account), codec().encode("command", record),
                       command_key(command_id))

    def purchases(self, count: int) -> list[Purchase]:
        """``count`` purchases by random cardholders, each with a STAN and RRN of its own."""
        now = datetime.now(UTC)
        return [Purchase(pan=self.rng.choice(self.pans), stan=f"{n % 1_000_000:06d}",
                         rrn=f"B{n:011d}", transmitted=now, amount=cents(self.rng))
                for n in itertools.islice(_numbers, count)]


def _wait_all(client: LedgerClient, command_ids: list[str]) -> None:
    refused = [r for r in client.wait(command_ids, SETUP_TIMEOUT_S).values() if not r.ok]
    if refused:
        raise LedgerError(f"the card program was refused: {refused[0]}")


@dataclass
class Window:
    """One window of authorizations: each one's latency (s, no answer as infinity) by its
    message key, and the response codes."""

    latencies: dict[str, float] = field(default_factory=dict)
    codes: Counter[str] = field(default_factory=Counter)


async def authorizations_at(port: int, purchases: list[Purchase], rate: float,
                            connections: int) -> Window:
    """Send each purchase's 0100 at ``rate`` per second on a fixed schedule, round robin over
    ``connections`` connections; each 0110's latency from its scheduled send time."""
    window = Window()
    clients = [Iso8583Client(SPEC) for _ in range(connections)]
    for client in clients:
        await client.connect("127.0.0.1", port)
    # Built before the clock starts, so the schedule holds only the send itself.
    messages = [p.authorization() for p in purchases]

    keys = [message_key(m) for m in messages]

    async def authorize(index: int, scheduled: float) -> None:
        try:
            answer = await clients[index % connections].send(messages[index], ANSWER_TIMEOUT_S)
        except TimeoutError:
            window.latencies[keys[index]] = math.inf
            window.codes["no answer"] += 1
            return
        window.latencies[keys[index]] = time.monotonic() - scheduled
        window.codes[answer.get(39) or "none"] += 1

    tasks = []
    start = time.monotonic() + 0.05
    try:
        for index in range(len(messages)):
            scheduled = start + index / rate
            await asyncio.sleep(max(0.0, scheduled - time.monotonic()))
            tasks.append(asyncio.create_task(authorize(index, scheduled)))
        await asyncio.gather(*tasks)
    finally:
        for client in clients:
            await client.close()
    return window


def round_trip_row(window: Window, decided_ms: dict[str, float]) -> dict[str, float]:
    """Percentiles (ms) of the round trips, of the engine's decisions and of the rest (the
    front door: round trip - decision, message by message), and how the authorizations
    ended."""
    trips = {key: 1000 * s for key, s in window.latencies.items()}
    front = [trips[key] - ms for key, ms in decided_ms.items() if key in trips]
    parts = {"": trips.values(), "engine_": decided_ms.values(), "front_": front}
    row = {f"{part}{name}": percentile(sorted(values), q)
           for part, values in parts.items() for name, q in QUANTILES.items()}
    approved, funds = window.codes[codes.APPROVED], window.codes[codes.INSUFFICIENT_FUNDS]
    row.update(approved=approved, declined_funds=funds,
               other=sum(window.codes.values()) - approved - funds,
               timed_out=window.codes[codes.ISSUER_UNAVAILABLE] + window.codes["no answer"])
    return row


def one_rate(system: CardLedger, server: Iso8583Process, bootstrap: str, rate: int,
             args: argparse.Namespace) -> dict[str, dict[str, float]]:
    """The ledger's part, then the round trip, at ``rate``/s."""
    values = latencies_at(system, bootstrap, rate, args.seconds)
    ledger = {name: 1000 * percentile(values, q) for name, q in QUANTILES.items()}
    ledger["lost"] = sum(v == math.inf for v in values)
    asyncio.run(authorizations_at(server.port, system.purchases(args.warmup), rate,
                                  args.connections))
    processor = system.processors[0].pid
    assert processor is not None, "the processor is not running"
    pids = {"server_cpu": server.pid, "processor_cpu": processor}
    used = {name: cpu_seconds(pid) for name, pid in pids.items()}
    offset, began = server.log_size(), time.monotonic()
    window = asyncio.run(authorizations_at(server.port,
                                           system.purchases(int(rate * args.seconds)), rate,
                                           args.connections))
    elapsed = time.monotonic() - began
    if not window.codes[codes.APPROVED]:
        # A card program the server cannot book on (say, tran codes of another version)
        # answers everything at once: fast, and measuring nothing.
        raise LedgerError(f"no authorization was approved at {rate}/s: {dict(window.codes)}")
    decided = {key: float(ms) for key, ms in _DECIDED.findall(server.log_since(offset))}
    card = round_trip_row(window, decided)
    card.update({name: 100 * (cpu_seconds(pid) - used[name]) / elapsed
                 for name, pid in pids.items()})
    return {"ledger": ledger, "card": card}


Figures = dict[int, list[dict[str, dict[str, float]]]]


def run(args: argparse.Namespace) -> Figures:
    """Per rate, the ledger's and the round trip's figures of every run."""
    figures: Figures = {rate: [] for rate in args.rates}
    with broker() as bootstrap:
        for run_index in range(args.runs):
            system = CardLedger(bootstrap, args, seed=run_index + 1)
            system.start()
            server = Iso8583Process(bootstrap, system.home / "cards.log", PAN_KEY.decode(),
                                    system.prefix, SPEC)
            try:
                server.start()
                for rate in args.rates:
                    row = one_rate(system, server, bootstrap, rate, args)
                    figures[rate].append(row)
                    print(f"run {run_index + 1}/{args.runs} {rate}/s: "
                          + "; ".join(f"{part}: " + ", ".join(f"{k} {v:,.1f}"
                                                              for k, v in values.items())
                                      for part, values in row.items()), flush=True)
            finally:
                server.stop()
                keep_log(server.log_file, f"{system.prefix}-cards")
                system.stop()
    return figures


def _median(runs: list[dict[str, dict[str, float]]], part: str, name: str) -> float:
    return median([r[part][name] for r in runs])


def report(args: argparse.Namespace, figures: Figures) -> str:
    """The latency table, the outcomes and CPU table, and the goal."""
    latency_rows, outcome_rows = [], []
    for rate, runs in figures.items():
        trip = {q: _median(runs, "card", q) for q in QUANTILES}
        ledger = {q: _median(runs, "ledger", q) for q in QUANTILES}
        latency_rows.append((f"{rate:,}", *trip.values(),
                             *(_median(runs, "card", f"{part}_{q}") for part in
                               ("engine", "front") for q in ("p50", "p99")),
                             *ledger.values(),
                             " / ".join(f"{r['card']['p99']:,.0f}" for r in runs)))
        outcome_rows.append((f"{rate:,}", *(sum(int(r["card"][k]) for r in runs) for k in
                                           ("approved", "declined_funds", "other", "timed_out")),
                             sum(int(r["ledger"]["lost"]) for r in runs),
                             _median(runs, "card", "server_cpu"),
                             _median(runs, "card", "processor_cpu")))
    text = table(["offered auth/s", "round trip p50 ms", "p99 ms", "p999 ms",
                  "engine p50 ms", "p99 ms", "front door p50 ms", "p99 ms",
                  "ledger alone p50 ms", "p99 ms", "p999 ms", "round trip p99 of each run"],
                 latency_rows)
    text += "\n\n" + table(["offered auth/s", "approved (00)", "declined for funds (51)",
                            "other", "of them timed out (91) or unanswered",
                            "ledger holds lost", "server CPU % of a core", "processor CPU %"],
                           outcome_rows)
    text += (f"\n\n{args.runs} run(s), {args.seconds:.0f} s per rate and part, open loop, "
             f"{args.connections} connection(s), {args.cardholders:,} cardholders funded "
             f"with {args.funds} each, {args.partitions} partitions, batch "
             f"{args.batch_max} records / {args.batch_timeout_ms} ms, one processor process, "
             "one server process. Engine: the server's own time per decision (card lookup, the "
             "CARD_HOLD command, its result routed back), from its log. Front door: round "
             "trip - engine, message by message (the sender, TCP, framing, decoding and "
             "validation, the response). Ledger alone: CARD_HOLD commands sent straight to "
             "Kafka at the same rate, as bench.latency measures them.")
    if GOAL_RATE in figures:
        p99 = _median(figures[GOAL_RATE], "card", "p99")
        met = "met" if p99 <= GOAL_P99_MS else "not met"
        text += (f"\nround trip p99 at {GOAL_RATE}/s = {p99:,.1f} ms "
                 f"(goal <= {GOAL_P99_MS:.0f} ms): {met}")
    return text


def parser() -> argparse.ArgumentParser:
    """Command-line options."""
    p = argparse.ArgumentParser(prog="python -m bench.cards", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--rates", type=int, nargs="+", default=[100, 200, 500],
                   help="authorizations per second, each held for --seconds")
    p.add_argument("--seconds", type=float, default=15.0)
    p.add_argument("--warmup", type=int, default=200,
                   help="authorizations sent at each rate before its measured window")
    p.add_argument("--connections", type=int, default=4)
    p.add_argument("--cardholders", type=int, default=1000)
    # Enough that most holds are approved: a run of the default rates makes about 25 holds
    # of 1.00-50.00 (25.50 on average) per cardholder, ledger part included; the cardholders
    # drawn most often run out near its end.
    p.add_argument("--funds", default="1000.00", help="each cardholder's deposit")
    p.add_argument("--partitions", type=int, default=6)
    p.add_argument("--batch-max", type=int, default=500)
    p.add_argument("--batch-timeout-ms", type=int, default=10)
    p.add_argument("--kafka-config", type=Path, default=None, metavar="FILE",
                   help="librdkafka client properties for every client, with "
                        "KAFKA_BOOTSTRAP_SERVERS naming the cluster (default: "
                        "$LEDGER_KAFKA_CONFIG)")
    return p


def main(argv: list[str] | None = None) -> str:
    """Run, print and save."""
    args = parser().parse_args(argv)
    if args.kafka_config is not None:
        use_config_file(args.kafka_config)
    stop_on_sigterm()
    figures = run(args)
    text = report(args, figures)
    print(text, flush=True)
    save("cards", {"settings": vars(args),
                   "runs": {str(rate): runs for rate, runs in figures.items()},
                   "report": text})
    return text


if __name__ == "__main__":
    main()
