"""The ledger's balance fold written as a quixstreams app (exactly-once, RocksDB state).

Runs with the peers' virtualenv. Two streaming dataframes, as the ledger splits a 2-leg
posting:

* commands (keyed by the customer): add the amount to the customer's balance in the key's
  state, emit the result, the customer's new balance and a leg keyed by the house account;
* legs (keyed by the house): add the amount to the house balance, emit its new balance.

Amounts are Decimal, kept in state and sent as decimal strings. Checkpoints (one Kafka
transaction each under ``processing_guarantee="exactly-once"``) happen every ``batch_max``
records or every second.
"""

import argparse
from decimal import Decimal
from typing import Any

from quixstreams import Application, State


def main() -> None:
    """Run until SIGTERM."""
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

    app = Application(
        broker_address=args.bootstrap, consumer_group=f"{args.prefix}-quix",
        processing_guarantee="exactly-once", commit_every=args.batch_max, commit_interval=1.0,
        state_dir=args.state_dir, auto_offset_reset="earliest", loglevel="WARNING",
        producer_extra_config={"linger.ms": 2, "compression.type": "lz4"},
    )
    commands = app.topic(f"{args.prefix}.commands", key_deserializer="str",
                         value_deserializer="json")
    legs = app.topic(f"{args.prefix}.legs", key_deserializer="str", value_deserializer="json",
                     key_serializer="str", value_serializer="json")
    results = app.topic(f"{args.prefix}.results", key_serializer="str",
                        value_serializer="json")
    balances = app.topic(f"{args.prefix}.balances", key_serializer="str",
                         value_serializer="json")
    outputs = {"results": results, "balances": balances, "legs": legs}

    def fold_command(command: dict[str, Any], state: State) -> list[dict[str, Any]]:
        balance = Decimal(state.get("balance", "0")) + Decimal(command["amount"])
        state.set("balance", str(balance))
        account, command_id = command["account"], command["command_id"]
        return [
            {"to": "results", "key": command_id, "command_id": command_id, "status": "POSTED"},
            {"to": "balances", "key": account, "account": account, "balance": str(balance)},
            {"to": "legs", "key": command["house"], "account": command["house"],
             "amount": command["amount"], "command_id": command_id},
        ]

    def fold_leg(leg: dict[str, Any], state: State) -> dict[str, Any]:
        balance = Decimal(state.get("balance", "0")) + Decimal(leg["amount"])
        state.set("balance", str(balance))
        return {"account": leg["account"], "balance": str(balance)}

    sdf = app.dataframe(commands).apply(fold_command, stateful=True, expand=True)
    sdf.to_topic(lambda value, key, timestamp, headers: outputs[value["to"]],
                 key=lambda value: value["key"])
    app.dataframe(legs).apply(fold_leg, stateful=True).to_topic(
        balances, key=lambda value: value["account"])
    app.run()


if __name__ == "__main__":
    main()
