"""``ledger card create|update|list``: the cards of a card program, in the catalog.

``create`` hashes the PAN here, under the program's key (``streams.card_keys``), and sends
only the hash and the last four digits: the PAN never reaches Kafka, the output or an
error. ``--pan-stdin`` reads it from standard input, so that it need not sit in the shell's
history or in the process list. No output shows a card's PAN hash either.
"""

import argparse
import sys
import uuid
from pathlib import Path
from typing import Any

from ledger_cli.common import add_kafka_options, client, topics
from ledger_cli.rendering import render_table
from ledger_core import Card, Layer, VelocityLimit
from ledger_core.cards import card_from_pan
from ledger_core.catalog import CatalogKind
from streams.card_keys import PAN_KEY_VARIABLE, load_pan_key
from streams.catalog import CatalogReader
from streams.errors import LedgerError
from streams.kafka_config import check_connection
from streams.settings import resolve_bootstrap


def register(commands: Any) -> None:
    """Add the ``card`` command group."""
    group = commands.add_parser("card", help="manage the cards of a card program")
    sub = group.add_subparsers(dest="card_command", required=True)

    create = sub.add_parser("create", help="add a card, spending from an account")
    add_kafka_options(create)
    create.add_argument("--account", required=True, help="the id of the account it spends from")
    create.add_argument("--card-id", help="the card's id (default: a new one)")
    pan = create.add_mutually_exclusive_group(required=True)
    pan.add_argument("--pan", help="the card number (prefer --pan-stdin: this one is seen "
                                   "by anyone who can list processes or read the history)")
    pan.add_argument("--pan-stdin", action="store_true",
                     help="read the card number from standard input")
    create.add_argument("--card-token", help="the card processor's token for the card")
    create.add_argument("--allow-overdraft", action="store_true",
                        help="do not give the account a no-overdraft limit on available(PENDING) "
                             "(by default it gets one, so no authorization can overdraw it)")
    create.add_argument("--pan-key-file", type=Path, metavar="FILE",
                        help=f"the card program's PAN key (default: ${PAN_KEY_VARIABLE})")
    # The key and the PAN are checked before Kafka is, so a missing key fails at once.
    create.set_defaults(handler=_create, render=_render_result, needs_kafka=False)

    update = sub.add_parser("update", help="lock, unlock or re-token a card")
    add_kafka_options(update)
    update.add_argument("--card-id", required=True)
    update.add_argument("--status", choices=("ACTIVE", "LOCKED"))
    update.add_argument("--card-token", help="the card processor's new token for the card")
    update.set_defaults(handler=_update, render=_render_result)

    listing = sub.add_parser("list", help="every card: id, account, last four, status, token")
    add_kafka_options(listing)
    listing.set_defaults(handler=_list, render=_render_cards)


def _create(args: argparse.Namespace) -> dict[str, Any]:
    key = load_pan_key(args.pan_key_file)
    pan = sys.stdin.readline().strip() if args.pan_stdin else args.pan.strip()
    try:
        card_id = uuid.UUID(args.card_id) if args.card_id else uuid.uuid4()
        account_id = uuid.UUID(args.account)
    except ValueError as exc:
        raise LedgerError(f"--card-id and --account are UUIDs: {exc}") from exc
    card = card_from_pan(card_id, account_id, pan, key, args.card_token)
    if not isinstance(card, Card):
        raise LedgerError(f"that is not a card number: {card.reason}")
    check_connection(resolve_bootstrap(args.bootstrap_servers))
    if not args.allow_overdraft:
        # An authorization is a hold on PENDING: the limit there is what declines it for funds.
        limit = VelocityLimit.no_overdraft(account_id, layer=Layer.PENDING)
        refused = _send(args, CatalogKind.CREATE_LIMIT, limit.model_dump(mode="json",
                                                                         by_alias=True))
        if refused["status"] == "REJECTED":
            return refused
    return _send(args, CatalogKind.CREATE_CARD, card.model_dump(mode="json", by_alias=True))


def _update(args: argparse.Namespace) -> dict[str, Any]:
    changes = {name: value for name, value in (("status", args.status),
                                               ("cardToken", args.card_token))
               if value is not None}
    if not changes:
        raise LedgerError("nothing to update: give --status or --card-token")
    return _send(args, CatalogKind.UPDATE_CARD, {"cardId": args.card_id, **changes})


def _send(args: argparse.Namespace, kind: CatalogKind, body: dict[str, Any]) -> dict[str, Any]:
    ledger = client(args)
    try:
        result = ledger.catalog(kind, body).to_json()
    finally:
        ledger.close()
    if kind is CatalogKind.CREATE_CARD and "entity" in result:
        del result["entity"]["panHash"]  # what the command shows of a card: not its hash
    return result


def _list(args: argparse.Namespace) -> dict[str, Any]:
    reader = CatalogReader(resolve_bootstrap(args.bootstrap_servers), topics(args).catalog)
    try:
        reader.catch_up()
        cards = sorted(reader.table.cards.values(), key=lambda c: (str(c.account_id),
                                                                  str(c.card_id)))
    finally:
        reader.close()
    return {"cards": [_shown(card) for card in cards]}


def _shown(card: Card) -> dict[str, Any]:
    return card.model_dump(mode="json", by_alias=True, exclude={"pan_hash"})


def _render_result(result: dict[str, Any]) -> str:
    if result["status"] == "REJECTED":
        return f"REJECTED {result['code']}: {result['message']}"
    card = result["entity"]
    token = f", token {card['cardToken']}" if card["cardToken"] is not None else ""
    return (f"APPLIED card {card['cardId']} of account {card['accountId']}: "
            f"last four {card['lastFour']}, {card['status']}{token}")


def _render_cards(result: dict[str, Any]) -> str:
    if not result["cards"]:
        return "no cards"
    return render_table(["card", "account", "last four", "status", "token"],
                        [[c["cardId"], c["accountId"], c["lastFour"], c["status"],
                          c["cardToken"] or ""] for c in result["cards"]])
