"""``ledger auth``: the clients of the API, written to the ledger's auth topic.

The first administrator is created here (the API's own ``auth`` mutations need a client
allowed to use them), and so are API keys, whose text is printed once and never stored.
"""

import argparse
from typing import Any

from connectors.graphql_api.auth.admin import (
    ADMINISTRATOR,
    create_api_key,
    create_client,
    delete_client,
    list_clients,
)
from connectors.graphql_api.auth.store import ClientRecord
from ledger_cli.common import add_kafka_options, load_document, topics
from streams.errors import LedgerError
from streams.settings import resolve_bootstrap


def register(commands: Any) -> None:
    """Add the ``auth`` command group."""
    auth = commands.add_parser("auth", help="the API's clients: token issuers and API keys")
    sub = auth.add_subparsers(dest="auth_command", required=True)
    client = sub.add_parser("create-client", help="let a token issuer in with policies "
                                                  "(replaces its client if it has one)")
    add_kafka_options(client)
    client.add_argument("--principal", required=True, help="the tokens' issuer (iss)")
    client.add_argument("--name", required=True)
    _policy_options(client)
    client.set_defaults(handler=_create_client, render=_render_client)
    key = sub.add_parser("create-key", help="a new API key with its policies; the key is "
                                            "printed once")
    add_kafka_options(key)
    key.add_argument("--tenant", default=None,
                     help="the tenant name the API serves this ledger as (default: the topic "
                          "prefix)")
    key.add_argument("--name", required=True)
    _policy_options(key)
    key.set_defaults(handler=_create_key, render=_render_key)
    listed = sub.add_parser("clients", help="list the clients and their policies")
    add_kafka_options(listed)
    listed.set_defaults(handler=_clients, render=_render_clients)
    delete = sub.add_parser("delete-client", help="remove a client (a token issuer, or "
                                                  "apikey:<key id>)")
    add_kafka_options(delete)
    delete.add_argument("--principal", required=True)
    delete.set_defaults(handler=_delete)


def _policy_options(parser: argparse.ArgumentParser) -> None:
    given = parser.add_mutually_exclusive_group(required=True)
    given.add_argument("--policy-file", metavar="FILE",
                       help="YAML or JSON: {policies: [{effect, actions, resources, "
                            "assertions}]}")
    given.add_argument("--administrator", action="store_true",
                       help="every action on every resource")


def _policies(args: argparse.Namespace) -> object:
    if args.administrator:
        return ADMINISTRATOR
    return load_document(args.policy_file).get("policies")


def _shown(record: ClientRecord) -> dict[str, Any]:
    return {"principal": record.principal, "name": record.name,
            "policies": record.policies_json(), "created": record.created.isoformat(),
            "modified": record.modified.isoformat()}


def _create_client(args: argparse.Namespace) -> dict[str, Any]:
    try:
        record = create_client(resolve_bootstrap(args.bootstrap_servers), topics(args),
                               args.principal, args.name, _policies(args))
    except ValueError as exc:
        raise LedgerError(str(exc)) from None
    return _shown(record)


def _create_key(args: argparse.Namespace) -> dict[str, Any]:
    try:
        text, record = create_api_key(resolve_bootstrap(args.bootstrap_servers), topics(args),
                                      args.tenant or args.topic_prefix, args.name,
                                      _policies(args))
    except ValueError as exc:
        raise LedgerError(str(exc)) from None
    return {"key": text, **_shown(record)}


def _clients(args: argparse.Namespace) -> list[dict[str, Any]]:
    return [_shown(record) for record in
            list_clients(resolve_bootstrap(args.bootstrap_servers), topics(args))]


def _delete(args: argparse.Namespace) -> None:
    delete_client(resolve_bootstrap(args.bootstrap_servers), topics(args), args.principal)


def _render_client(shown: dict[str, Any]) -> str:
    return f"client {shown['principal']} ({shown['name']}): {len(shown['policies'])} policies"


def _render_key(shown: dict[str, Any]) -> str:
    return (f"API key for {shown['name']} (client {shown['principal']}):\n{shown['key']}\n"
            "It is shown this once; only its hash is kept.")


def _render_clients(shown: list[dict[str, Any]]) -> str:
    return "\n".join(f"{c['principal']}  {c['name']}  ({len(c['policies'])} policies)"
                     for c in shown) or "(no clients)"
