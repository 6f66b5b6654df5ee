"""``ledger balance`` and ``ledger tail``: reading the ledger's topics."""

import argparse
import json
import uuid
from collections.abc import Callable
from typing import Any
from uuid import UUID

from confluent_kafka import Consumer

from ledger_cli.common import add_kafka_options, client, topics
from ledger_cli.rendering import render_table
from ledger_core import Balance, Layer
from schemas.codec import codec
from streams.catalog import CatalogReader
from streams.errors import LedgerError
from streams.kafka_config import kafka_config
from streams.settings import resolve_bootstrap
from streams.topics import Topics

_TAILS: dict[str, tuple[Callable[[Topics], str], str]] = {
    "balances": (lambda t: t.balances, "balance"),
    "entries": (lambda t: t.entries, "entry"),
    "results": (lambda t: t.results, "result"),
    "transactions": (lambda t: t.transactions, "transaction"),
    "legs": (lambda t: t.legs, "entry"),
    "dead-letters": (lambda t: t.dead_letters, "dead_letter"),
}


def register(commands: Any) -> None:
    """Add ``balance`` and ``tail``."""
    balance = commands.add_parser("balance", help="an account's balances, every layer")
    add_kafka_options(balance)
    balance.add_argument("account", help="account id or code")
    balance.set_defaults(handler=_balance, render=render_balances)
    tail = commands.add_parser("tail", help="follow a topic, decoded, one JSON line a record")
    add_kafka_options(tail)
    tail.add_argument("topic", choices=sorted(_TAILS))
    tail.add_argument("--from-beginning", action="store_true")
    tail.add_argument("--limit", type=int, default=None, help="stop after this many records")
    tail.add_argument("--idle-timeout", type=float, default=None,
                      help="stop after this many seconds without a record")
    tail.set_defaults(handler=_tail)


def _balance(args: argparse.Namespace) -> dict[str, Any]:
    account_id = account_id_of(args)
    ledger = client(args, watch_results=False)
    try:
        balances = ledger.balances(account_id)
    finally:
        ledger.close()
    return {"accountId": str(account_id), "balances": [_balance_json(b) for b in balances]}


def account_id_of(args: argparse.Namespace) -> UUID:
    """The account named by ``args.account``: an id, or a code looked up in the catalog."""
    try:
        return UUID(args.account)
    except ValueError:
        pass
    reader = CatalogReader(resolve_bootstrap(args.bootstrap_servers), topics(args).catalog)
    try:
        reader.catch_up()
        account_id = reader.table.account_codes.get(args.account)
    finally:
        reader.close()
    if account_id is None:
        raise LedgerError(f"no account has id or code {args.account!r}")
    return account_id


def _balance_json(balance: Balance) -> dict[str, Any]:
    def part(layer: Any) -> dict[str, str]:
        return {"drBalance": str(layer.dr), "crBalance": str(layer.cr),
                "normalBalance": str(layer.normal_balance)}

    return {
        "journalId": str(balance.journal_id), "currency": balance.currency,
        "normalBalanceType": balance.normal_balance_type.value, "version": balance.version,
        "settled": part(balance.settled), "pending": part(balance.pending),
        "encumbrance": part(balance.encumbrance),
        "available": {layer.value: str(balance.available(layer).normal_balance)
                      for layer in Layer},
    }


def render_balances(result: dict[str, Any]) -> str:
    """Every layer and available(layer) of each balance, as a table."""
    if not result["balances"]:
        return f"account {result['accountId']} has no balance yet"
    rows = []
    for balance in result["balances"]:
        for layer in ("settled", "pending", "encumbrance"):
            part = balance[layer]
            rows.append([f"{balance['currency']} {layer.upper()}", part["drBalance"],
                         part["crBalance"], part["normalBalance"],
                         balance["available"][layer.upper()]])
    return f"account {result['accountId']}\n" + render_table(
        ["balance", "dr", "cr", "normal", "available"], rows)


def _tail(args: argparse.Namespace) -> None:
    name_of, schema = _TAILS[args.topic]
    ledger_topics = topics(args)
    topic = name_of(ledger_topics)
    bootstrap = resolve_bootstrap(args.bootstrap_servers)
    consumer = Consumer(kafka_config(bootstrap, {
        "group.id": f"tail-{uuid.uuid4()}", "isolation.level": "read_committed",
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest" if args.from_beginning else "latest",
    }))
    consumer.subscribe([topic])
    seen = 0
    idle = 0.0
    try:
        while args.limit is None or seen < args.limit:
            message = consumer.poll(0.5)
            if message is None or message.error() is not None:
                idle += 0.5
                if args.idle_timeout is not None and idle >= args.idle_timeout:
                    break
                continue
            idle = 0.0
            record = codec().decode(schema, message.value())
            print(json.dumps({"partition": message.partition(), "offset": message.offset(),
                              **record}, default=_json_value), flush=True)
            seen += 1
    except KeyboardInterrupt:
        pass
    finally:
        consumer.close()


def _json_value(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, tuple):
        return list(value)
    return str(value)
