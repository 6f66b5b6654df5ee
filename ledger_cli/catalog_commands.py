"""``ledger journal|account|trancode|limit create`` (and updates): catalog changes.

Each takes its fields as flags or as a Twisp-shaped JSON/YAML document (``--file``); flags
override the document. The command waits for the catalog desk's answer.
"""

import argparse
import uuid
from collections.abc import Callable
from typing import Any

from ledger_cli.common import add_kafka_options, client, key_values, load_document
from ledger_cli.rendering import render_result
from ledger_core.catalog import CatalogKind
from streams.errors import LedgerError


def register(commands: Any) -> None:
    """Add the ``journal``, ``account``, ``trancode`` and ``limit`` command groups."""
    _group(commands, "journal", {"create": CatalogKind.CREATE_JOURNAL}, _journal_flags)
    _group(commands, "account", {"create": CatalogKind.CREATE_ACCOUNT,
                                 "update": CatalogKind.UPDATE_ACCOUNT}, _account_flags)
    _group(commands, "trancode", {"create": CatalogKind.CREATE_TRAN_CODE,
                                  "update": CatalogKind.UPDATE_TRAN_CODE}, _tran_code_flags)
    _group(commands, "limit", {"create": CatalogKind.CREATE_LIMIT}, _limit_flags)


def _group(commands: Any, name: str, actions: dict[str, CatalogKind],
           flags: Callable[[argparse.ArgumentParser], None]) -> None:
    group = commands.add_parser(name, help=f"manage {name}s in the catalog")
    sub = group.add_subparsers(dest=f"{name}_command", required=True)
    for action, kind in actions.items():
        parser = sub.add_parser(action, help=f"{action} a {name}")
        add_kafka_options(parser)
        parser.add_argument("--file", help="a JSON or YAML document in Twisp's input shape")
        parser.add_argument("--set", action="append", metavar="FIELD=VALUE",
                            help="any other input field (repeatable)")
        flags(parser)
        parser.set_defaults(handler=_send, kind=kind, render=render_result)


def _journal_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--id", dest="journalId")
    parser.add_argument("--name")
    parser.add_argument("--code")
    parser.add_argument("--description")


def _account_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--id", dest="accountId")
    parser.add_argument("--code")
    parser.add_argument("--name")
    parser.add_argument("--description")
    parser.add_argument("--normal-balance-type", dest="normalBalanceType",
                        choices=("DEBIT", "CREDIT"))
    parser.add_argument("--status", choices=("ACTIVE", "LOCKED", "INACTIVE"))


def _tran_code_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--id", dest="tranCodeId")
    parser.add_argument("--code")
    parser.add_argument("--description")
    parser.add_argument("--status", choices=("ACTIVE", "LOCKED", "INACTIVE"))
    parser.add_argument("--param", action="append", dest="param_specs", metavar="NAME:TYPE",
                        help="a param, e.g. amount:DECIMAL (repeatable)")
    parser.add_argument("--entry", action="append", dest="entry_specs",
                        metavar="FIELD=CEL,...",
                        help="an entry template, e.g. accountId=params.account,"
                             "units=params.amount,currency='USD',direction=CREDIT (repeatable)")


def _limit_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--id", dest="limitId")
    parser.add_argument("--account", dest="accountId")
    parser.add_argument("--layer", choices=("SETTLED", "PENDING", "ENCUMBRANCE"))
    parser.add_argument("--min-available", dest="minAvailable")
    parser.add_argument("--max-available", dest="maxAvailable")
    parser.add_argument("--enforcement", choices=("REJECT", "WARN"))
    parser.add_argument("--currency")


_NOT_FIELDS = {"handler", "kind", "render", "file", "set", "json", "command",
               "bootstrap_servers", "topic_prefix", "param_specs", "entry_specs"}


def _send(args: argparse.Namespace) -> dict[str, Any]:
    body = load_document(args.file) if args.file else {}
    body.update(key_values(args.set))
    body.update({key: value for key, value in vars(args).items()
                 if key not in _NOT_FIELDS and not key.endswith("_command")
                 and value is not None})
    if getattr(args, "param_specs", None):
        body["params"] = [_param(spec) for spec in args.param_specs]
    if getattr(args, "entry_specs", None):
        body["entries"] = [key_values(spec.split(",")) for spec in args.entry_specs]
    _default_ids(args.kind, body)
    ledger = client(args)
    try:
        return ledger.catalog(args.kind, body).to_json()
    finally:
        ledger.close()


def _param(spec: str) -> dict[str, str]:
    name, _, rest = spec.partition(":")
    kind, _, default = rest.partition("=")
    param = {"name": name, "type": kind or "STRING"}
    if default:
        param["default"] = default
    return param


def _default_ids(kind: CatalogKind, body: dict[str, Any]) -> None:
    id_field = {CatalogKind.CREATE_JOURNAL: "journalId",
                CatalogKind.CREATE_ACCOUNT: "accountId",
                CatalogKind.CREATE_TRAN_CODE: "tranCodeId",
                CatalogKind.CREATE_LIMIT: "limitId"}.get(kind)
    if id_field is not None and id_field not in body:
        body[id_field] = str(uuid.uuid4())
    if kind is CatalogKind.UPDATE_ACCOUNT and "accountId" not in body:
        raise LedgerError("account update needs --id (or accountId in --file)")
