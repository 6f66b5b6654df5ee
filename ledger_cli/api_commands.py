"""``ledger api serve``: the GraphQL API, in Twisp's shape, in front of the ledger's topics."""

import argparse
from pathlib import Path
from typing import Any

from connectors.graphql_api import ApiServer, build_schema
from connectors.graphql_api.auth.config import AuthConfigError, load_auth_config
from connectors.graphql_api.observability import observed
from ledger_cli.ach_file_commands import webhook_key
from ledger_cli.common import add_kafka_options, key_values, topics
from streams.client import RESULT_TIMEOUT_S
from streams.errors import LedgerError
from streams.log_format import configure_logging
from streams.observability import add_observability_options
from streams.settings import resolve_bootstrap


def register(commands: Any) -> None:
    """Add the ``api`` command group."""
    api = commands.add_parser("api", help="the GraphQL API")
    sub = api.add_subparsers(dest="api_command", required=True)
    serve = sub.add_parser("serve", help="serve POST /graphql until SIGINT or SIGTERM (several "
                                         "instances may serve one ledger)")
    add_kafka_options(serve)
    serve.add_argument("--port", type=int, default=8080, help="port to listen on (0: any free)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--result-timeout", type=float, default=RESULT_TIMEOUT_S,
                       help="seconds a mutation waits for its result before answering "
                            "command_timeout (the command is not lost)")
    serve.add_argument("--auth-config", type=Path, default=None, metavar="FILE",
                       help="turn authentication on: OIDC tokens and/or API keys, and the "
                            "tenants served (docs/api.md)")
    serve.add_argument("--tenant", action="append", metavar="NAME=PREFIX",
                       help="serve the ledger of topic prefix PREFIX as tenant NAME "
                            "(repeatable; without authentication, X-Twisp-Account-Id picks it)")
    serve.add_argument("--ach-webhook-secret-file", type=Path, default=None, metavar="FILE",
                       help="the ACH decisioning webhook's signing secret (whsec_...), for "
                            "ach.processFile (without it, that field is refused)")
    add_observability_options(serve)
    serve.set_defaults(handler=_serve)
    schema = sub.add_parser("schema", help="print the API's schema (SDL)")
    schema.set_defaults(handler=_schema, render=str)


def _schema(args: argparse.Namespace) -> str:
    return build_schema().as_str()


def _serve(args: argparse.Namespace) -> None:
    configure_logging(args.log_format)
    bootstrap = resolve_bootstrap(args.bootstrap_servers)
    try:
        auth = None if args.auth_config is None else load_auth_config(args.auth_config)
    except AuthConfigError as exc:
        raise LedgerError(str(exc)) from None
    with observed(bootstrap, args.metrics_port, args.metrics_host) as observability:
        server = ApiServer(bootstrap, topics(args), host=args.host, port=args.port,
                           result_timeout_s=args.result_timeout, auth=auth,
                           tenants=key_values(args.tenant) or None,
                           observability=observability, topics_timeout_s=None,
                           ach_webhook_key=None if args.ach_webhook_secret_file is None
                           else webhook_key(args.ach_webhook_secret_file))
        server.serve_forever()
