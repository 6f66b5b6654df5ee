"""The ledger's balance fold written as a faust-streaming app (exactly_once, RocksDB store).

Runs with the peers' virtualenv. Two agents, as the ledger splits a 2-leg posting:

* ``commands`` (keyed by the customer): add the amount to the customer's balance in a
  RocksDB-backed table (rocksdict driver), emit the result, the customer's new balance and
  a leg keyed by the house account;
* ``legs`` (keyed by the house): add the amount to the house balance, emit its new balance.

Amounts are Decimal, stored and sent as decimal strings. Commits (faust's transactions under
``processing_guarantee="exactly_once"``) happen every ``batch_max`` records or every second.
"""

import argparse
import json
import logging
from decimal import Decimal

import faust


def build(args: argparse.Namespace) -> faust.App:
    """The app with its topics, tables and agents."""
    app = faust.App(
        f"{args.prefix}-faust", broker=f"kafka://{args.bootstrap}", store="rocksdb://",
        processing_guarantee="exactly_once", datadir=args.state_dir,
        topic_partitions=args.partitions, topic_replication_factor=1,
        broker_commit_every=args.batch_max, broker_commit_interval=1.0,
        table_standby_replicas=0, web_enabled=False, consumer_auto_offset_reset="earliest",
        producer_linger=0.002, producer_compression_type="lz4",
    )

    def topic(suffix: str) -> faust.TopicT:
        return app.topic(f"{args.prefix}.{suffix}", key_type=bytes, value_type=bytes,
                         key_serializer="raw", value_serializer="raw",
                         partitions=args.partitions)

    commands, legs = topic("commands"), topic("legs")
    results, balances = topic("results"), topic("balances")
    options = {"driver": "rocksdict"}
    customer_balances = app.Table("customer-balances", default=str, partitions=args.partitions,
                                  options=options)
    house_balances = app.Table("house-balances", default=str, partitions=args.partitions,
                               options=options)

    @app.agent(commands)
    async def fold_commands(stream: faust.StreamT) -> None:
        async for event in stream.events():
            command = json.loads(event.value)
            account = command["account"]
            balance = Decimal(customer_balances[account] or "0") + Decimal(command["amount"])
            customer_balances[account] = str(balance)
            await results.send(key=command["command_id"].encode(), value=json.dumps(
                {"command_id": command["command_id"], "status": "POSTED"}).encode())
            await balances.send(key=account.encode(), value=json.dumps(
                {"account": account, "balance": str(balance)}).encode())
            await legs.send(key=command["house"].encode(), value=json.dumps(
                {"account": command["house"], "amount": command["amount"],
                 "command_id": command["command_id"]}).encode())

    @app.agent(legs)
    async def fold_legs(stream: faust.StreamT) -> None:
        async for event in stream.events():
            leg = json.loads(event.value)
            account = leg["account"]
            balance = Decimal(house_balances[account] or "0") + Decimal(leg["amount"])
            house_balances[account] = str(balance)
            await balances.send(key=account.encode(), value=json.dumps(
                {"account": account, "balance": str(balance)}).encode())

    return app


def main() -> None:
    """Start a worker; it stops on SIGTERM."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--partitions", type=int, default=6)
    parser.add_argument("--batch-max", type=int, default=500)
    parser.add_argument("--batch-timeout-ms", type=int, default=10)
    parser.add_argument("--state-dir", required=True)
    parser.add_argument("--instance-id", default="p1")
    parser.add_argument("--fanout", type=int, default=1)
    args = parser.parse_args()
    app = build(args)
    worker = faust.Worker(app, loglevel=logging.WARNING, quiet=True)
    worker.execute_from_commandline()


if __name__ == "__main__":
    main()
