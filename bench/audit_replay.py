"""Audit replay: how many entries per second `ledger audit` folds and checks (goal: 100k/s).

The entries topic is filled with balanced two-entry transactions written by the codec (real
`Entry` records on the accounts' owner partitions), then replayed into the audit with one
worker process and with one per CPU, as `ledger audit` does.

    python -m bench.audit_replay --runs 3 --entries 1000000
"""

import argparse
import os
import time
import uuid
from datetime import UTC, datetime

from confluent_kafka import Producer

from bench.broker import broker, create_topics, delete_topics, fresh_prefix, stop_on_sigterm
from bench.figures import median, save, table
from ledger_core import Direction
from ledger_core.audit import LedgerAudit
from schemas.codec import codec
from streams.audit_log import replay_entries
from streams.kafka_config import kafka_config
from streams.partitioning import account_key, owner_partition
from streams.topics import Topics

ACCOUNTS = 10_000


def generate(bootstrap: str, topics: Topics, entries: int) -> list[str]:
    """Write ``entries`` entries (half as many transactions); return the account ids."""
    accounts = [uuid.UUID(int=(0xA0 << 120) | i, version=4) for i in range(ACCOUNTS)]
    out = Producer(kafka_config(bootstrap, {"linger.ms": 50, "compression.type": "lz4",
                                            "queue.buffering.max.messages": 2_000_000}))
    now = datetime.now(UTC)
    journal = str(uuid.uuid4())
    for i in range(entries // 2):
        transaction = str(uuid.UUID(int=i, version=4))
        for sequence, (account, direction) in enumerate(
                ((accounts[i % ACCOUNTS], "DEBIT"),
                 (accounts[(i * 7919 + 1) % ACCOUNTS], "CREDIT")), start=1):
            record = {"entry_id": f"{transaction}:{sequence}", "transaction_id": transaction,
                      "journal_id": journal, "account_id": str(account), "sequence": sequence,
                      "units": "12.34", "currency": "USD", "direction": direction,
                      "entry_type": "BENCH", "layer": "SETTLED", "description": None,
                      "metadata_json": None, "effective": now.date(), "created": now}
            while True:
                try:
                    out.produce(topics.entries, codec().encode("entry", record),
                                account_key(account),
                                partition=owner_partition(account, topics.partitions))
                    break
                except BufferError:
                    out.poll(0.1)
    out.flush(300)
    return [str(a) for a in accounts]


def main(argv: list[str] | None = None) -> str:
    """Generate, replay, print and save."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--entries", type=int, default=1_000_000)
    p.add_argument("--partitions", type=int, default=6)
    args = p.parse_args(argv)
    stop_on_sigterm()
    rates: dict[int, list[float]] = {1: [], os.cpu_count() or 1: []}
    with broker() as bootstrap:
        topics = Topics(fresh_prefix("audit"), args.partitions)
        try:
            create_topics(bootstrap, [topics.entries], args.partitions)
            started = time.monotonic()
            accounts = generate(bootstrap, topics, args.entries)
            print(f"wrote {args.entries:,} entries in {time.monotonic() - started:.0f} s",
                  flush=True)
            normals = dict.fromkeys(accounts, Direction.CREDIT)
            for run in range(args.runs):
                for workers, measured in rates.items():
                    audit = LedgerAudit(normals, {})
                    started = time.monotonic()
                    replay_entries(bootstrap, topics, args.partitions, audit, workers)
                    seconds = time.monotonic() - started
                    assert audit.entries_seen == args.entries, audit.entries_seen
                    measured.append(args.entries / seconds)
                    print(f"run {run + 1}/{args.runs}, {workers} worker(s): "
                          f"{args.entries / seconds:,.0f} entries/s", flush=True)
        finally:
            delete_topics(bootstrap, topics.prefix)
    rows = [(f"{w} worker process(es)", median(v), " ".join(f"{x:,.0f}" for x in v))
            for w, v in rates.items()]
    text = table(["replay", "entries/s (median)", "runs"], rows)
    text += (f"\n\n{args.entries:,} entries ({args.entries // 2:,} two-entry transactions over "
             f"{ACCOUNTS:,} accounts), {args.partitions} partitions, {args.runs} runs; read "
             "(read_committed), decoded, folded and checked. Goal: 100,000 entries/s.")
    print(text, flush=True)
    save("audit_replay", {"settings": vars(args), "rates": rates, "report": text})
    return text


if __name__ == "__main__":
    main()
