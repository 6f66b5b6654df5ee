"""``python -m connectors.graphql_api``: one API instance in the foreground.

The same as ``ledger api serve``, for processes started from below the command line (the
demo's API child process). Stops cleanly on SIGINT or SIGTERM.
"""

import argparse
from pathlib import Path

from connectors.graphql_api.auth.config import load_auth_config
from connectors.graphql_api.observability import observed
from connectors.graphql_api.server import ApiServer
from streams.client import RESULT_TIMEOUT_S
from streams.kafka_config import check_connection, use_config_file
from streams.log_format import configure_logging
from streams.observability import add_observability_options
from streams.topics import Topics


def main() -> None:
    """Parse the options and serve until stopped."""
    parser = argparse.ArgumentParser(prog="python -m connectors.graphql_api",
                                     description=__doc__)
    parser.add_argument("--bootstrap-servers", required=True)
    parser.add_argument("--kafka-config", type=Path, default=None, metavar="FILE")
    parser.add_argument("--topic-prefix", default="ledger")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--result-timeout", type=float, default=RESULT_TIMEOUT_S)
    parser.add_argument("--auth-config", type=Path, default=None, metavar="FILE")
    add_observability_options(parser)
    args = parser.parse_args()
    if args.kafka_config is not None:
        use_config_file(args.kafka_config)
    check_connection(args.bootstrap_servers)
    configure_logging(args.log_format)
    auth = None if args.auth_config is None else load_auth_config(args.auth_config)
    with observed(args.bootstrap_servers, args.metrics_port, args.metrics_host) as observability:
        ApiServer(args.bootstrap_servers, Topics(prefix=args.topic_prefix), host=args.host,
                  port=args.port, result_timeout_s=args.result_timeout, auth=auth,
                  observability=observability).serve_forever()


if __name__ == "__main__":
    main()
