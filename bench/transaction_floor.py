"""Kafka's own latency floor for one exactly-once batch, by the partitions it writes to.

A transactional producer (the processor's settings: lz4, ``linger.ms`` as given) writes one
small record to each of N partitions, flushes, sends consumer offsets into the transaction
and commits; nothing is consumed or decided, so the figures are what the broker and the
client cost per transaction. The ledger's batches write to up to five output topics
(results, entries, balances, transactions, legs), each on the partitions their postings
own: one posting touches about 5 partitions, a batch spread over 6 partitions about 30.

    python -m bench.transaction_floor --runs 3 --transactions 60
"""

import argparse
import time
import uuid

from confluent_kafka import Consumer, Producer, TopicPartition

from bench.broker import broker, create_topics, delete_topics, fresh_prefix, stop_on_sigterm
from bench.figures import median, percentile, save, table
from streams.kafka_config import kafka_config

TOPICS = 5
PARTITIONS = 6


def one_run(bootstrap: str, prefix: str, touched: int, linger_ms: int,
            transactions: int) -> dict[str, float]:
    """Median and p90 (ms) of flush, send_offsets and commit over ``transactions``."""
    names = [f"{prefix}-{i}" for i in range(TOPICS)]
    producer = Producer(kafka_config(bootstrap, {
        "transactional.id": f"{prefix}-{uuid.uuid4().hex[:6]}", "linger.ms": linger_ms,
        "compression.type": "lz4",
    }))
    group = Consumer(kafka_config(bootstrap, {"group.id": f"{prefix}-group",
                                              "enable.auto.commit": False}))
    producer.init_transactions(30)
    spent: dict[str, list[float]] = {"flush": [], "send_offsets": [], "commit": [],
                                     "transaction": []}
    try:
        for n in range(transactions):
            began = time.perf_counter()
            producer.begin_transaction()
            for index in range(touched):
                producer.produce(names[index // PARTITIONS], b"x" * 200, b"key",
                                 partition=index % PARTITIONS)
            started = time.perf_counter()
            producer.flush(30)
            spent["flush"].append(time.perf_counter() - started)
            started = time.perf_counter()
            producer.send_offsets_to_transaction(
                [TopicPartition(names[0], 0, n + 1)], group.consumer_group_metadata(), 30)
            spent["send_offsets"].append(time.perf_counter() - started)
            started = time.perf_counter()
            producer.commit_transaction(30)
            ended = time.perf_counter()
            spent["commit"].append(ended - started)
            spent["transaction"].append(ended - began)
            time.sleep(0.01)  # a lightly loaded processor: one batch after another
    finally:
        group.close()
    figures = {}
    for name, values in spent.items():
        values.sort()
        figures[f"{name} p50"] = 1000 * median(values)
        figures[f"{name} p90"] = 1000 * percentile(values, 0.9)
    return figures


def main(argv: list[str] | None = None) -> str:
    """Measure, print and save."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--transactions", type=int, default=60)
    p.add_argument("--touched", type=int, nargs="+", default=[1, 6, 30])
    p.add_argument("--linger-ms", type=int, nargs="+", default=[2, 0])
    args = p.parse_args(argv)
    stop_on_sigterm()
    runs: dict[tuple[int, int], list[dict[str, float]]] = {}
    with broker() as bootstrap:
        prefix = fresh_prefix("floor")
        create_topics(bootstrap, [f"{prefix}-{i}" for i in range(TOPICS)], PARTITIONS)
        try:
            for _ in range(args.runs):
                for linger in args.linger_ms:
                    for touched in args.touched:
                        runs.setdefault((linger, touched), []).append(
                            one_run(bootstrap, prefix, touched, linger, args.transactions))
        finally:
            delete_topics(bootstrap, prefix)
    columns = ["flush p50", "flush p90", "send_offsets p50", "commit p50", "transaction p50",
               "transaction p90"]
    rows = [(linger, touched, *(median([r[c] for r in figures]) for c in columns))
            for (linger, touched), figures in runs.items()]
    text = table(["linger.ms", "partitions written", *(f"{c} ms" for c in columns)], rows)
    text += (f"\n\nMedians of {args.runs} runs of {args.transactions} transactions each, one "
             f"200-byte record per partition, {TOPICS} topics of {PARTITIONS} partitions.")
    print(text, flush=True)
    save("transaction_floor", {"settings": vars(args),
                               "runs": {f"linger {k[0]} partitions {k[1]}": v
                                        for k, v in runs.items()},
                               "report": text})
    return text


if __name__ == "__main__":
    main()
