"""A plain exactly-once consume -> produce pass-through: the ceiling Kafka and Python set.

The same loop shape and settings as the ledger processor (streams/processor.py): one
transactional producer (linger 2 ms, lz4), a read_committed consumer in a group with range
assignment, ``consume(batch_max, batch_timeout)``, one transaction per batch with the
consumer's positions sent through ``send_offsets_to_transaction``. No decoding, no state:
each input is copied to the results topic, plus ``fanout - 1`` copies to the balances topic
(``--fanout 7`` writes as many records per input as a ledger posting does).
"""

import argparse
import signal
import sys
from typing import Any

from confluent_kafka import Consumer, KafkaException, Producer


def main() -> None:
    """Run until SIGTERM."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--batch-max", type=int, default=500)
    parser.add_argument("--batch-timeout-ms", type=int, default=10)
    parser.add_argument("--fanout", type=int, default=1)
    parser.add_argument("--instance-id", default="p1")
    parser.add_argument("--partitions", type=int, default=6)
    parser.add_argument("--state-dir", default="")
    args = parser.parse_args()
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    producer = Producer({"bootstrap.servers": args.bootstrap,
                         "transactional.id": f"{args.prefix}.passthrough.{args.instance_id}",
                         "transaction.timeout.ms": 10_000, "linger.ms": 2,
                         "compression.type": "lz4", "queue.buffering.max.messages": 1_000_000})
    producer.init_transactions(60)
    consumer = Consumer({"bootstrap.servers": args.bootstrap,
                         "group.id": f"{args.prefix}.passthrough",
                         "group.instance.id": args.instance_id,
                         "isolation.level": "read_committed", "enable.auto.commit": False,
                         "auto.offset.reset": "earliest",
                         "partition.assignment.strategy": "range"})
    consumer.subscribe([f"{args.prefix}.commands"])
    results, balances = f"{args.prefix}.results", f"{args.prefix}.balances"
    timeout = args.batch_timeout_ms / 1000
    print("running", flush=True)
    while not stopping:
        messages = [m for m in consumer.consume(args.batch_max, timeout) if m.error() is None]
        if not messages:
            continue
        producer.begin_transaction()
        for message in messages:
            _produce(producer, results, message)
            for _ in range(args.fanout - 1):
                _produce(producer, balances, message)
        positions = consumer.position(consumer.assignment())
        producer.send_offsets_to_transaction(
            [tp for tp in positions if tp.offset >= 0], consumer.consumer_group_metadata(), 30)
        producer.commit_transaction(60)
    consumer.close()
    producer.flush(10)


def _produce(producer: Producer, topic: str, message: Any) -> None:
    while True:
        try:
            producer.produce(topic, message.value(), message.key(),
                             partition=message.partition())
            return
        except BufferError:
            producer.poll(0.05)


if __name__ == "__main__":
    try:
        main()
    except KafkaException as exc:
        print(f"pass-through failed: {exc}", file=sys.stderr)
        sys.exit(1)
