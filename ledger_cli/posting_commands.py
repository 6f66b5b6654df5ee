"""``ledger post`` and ``ledger void``."""

import argparse
import uuid
from typing import Any
from uuid import UUID

from ledger_cli.common import add_kafka_options, client, key_values
from ledger_cli.rendering import render_result
from ledger_core import Enforcement
from schemas import mapping
from schemas.codec import codec
from streams.client import read_partition
from streams.errors import LedgerError


def register(commands: Any) -> None:
    """Add ``post`` and ``void``."""
    post = commands.add_parser("post", help="post a transaction through a tran code")
    add_kafka_options(post)
    post.add_argument("--tran-code", required=True)
    post.add_argument("--param", action="append", metavar="NAME=VALUE",
                      help="a tran code param (repeatable); values are strings as on the wire")
    post.add_argument("--transaction-id", type=UUID, default=None,
                      help="the idempotency key (default: a new UUID)")
    post.add_argument("--tran-code-version", type=int, default=None)
    post.add_argument("--owner", type=UUID, default=None,
                      help="the account whose rules the posting must pass; it keys the command "
                           "(default: the 'account' param)")
    post.add_argument("--override", choices=("WARN",), default=None,
                      help="post even if a REJECT limit would refuse it, with a warning")
    post.set_defaults(handler=_post, render=render_result)
    void = commands.add_parser("void", help="void a posted transaction")
    add_kafka_options(void)
    void.add_argument("transaction_id", type=UUID)
    void.add_argument("--owner", type=UUID, default=None,
                      help="the owner account the original posting was sent with (default: "
                           "found by reading the transactions topic)")
    void.set_defaults(handler=_void, render=render_result)


def _post(args: argparse.Namespace) -> dict[str, Any]:
    params = key_values(args.param)
    owner = args.owner or _owner_from(params)
    ledger = client(args)
    try:
        return ledger.post(args.transaction_id or uuid.uuid4(), args.tran_code, params, owner,
                           args.tran_code_version,
                           None if args.override is None else Enforcement(args.override),
                           ).to_json()
    finally:
        ledger.close()


def _owner_from(params: dict[str, str]) -> UUID:
    try:
        return UUID(params["account"])
    except (KeyError, ValueError) as exc:
        raise LedgerError("pass --owner ACCOUNT_ID: the account whose rules the posting must "
                          "pass (there is no UUID 'account' param to default to)") from exc


def _void(args: argparse.Namespace) -> dict[str, Any]:
    ledger = client(args)
    try:
        owner = args.owner or _find_owner(ledger.bootstrap, ledger.topics.transactions,
                                          ledger.partitions, args.transaction_id)
        return ledger.void(args.transaction_id, owner).to_json()
    finally:
        ledger.close()


def _find_owner(bootstrap: str, topic: str, partitions: int, transaction_id: UUID) -> UUID:
    # The transaction lives on the partition of its owner account; any of its entries on an
    # account of that partition names a key that routes the void there.
    from streams.partitioning import owner_partition

    for partition in range(partitions):
        for message in read_partition(bootstrap, topic, partition):
            record = codec().decode("transaction", message.value())
            if record["transaction_id"] != str(transaction_id):
                continue
            posted = mapping.posted_from(record)
            for entry in posted.entries:
                if owner_partition(entry.account_id, partitions) == partition:
                    return entry.account_id
    raise LedgerError(f"transaction {transaction_id} was not found in {topic}; pass --owner")
