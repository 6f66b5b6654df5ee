"""``python -m connectors.graphql_api``: one API instance in the foreground.

The same as ``ledger api serve``, for processes started from below the command line (the
demo's API child process). Stops cleanly on SIGINT or SIGTERM.
"""

import argparse
import logging
from pathlib import Path

from connectors.graphql_api.auth.config import load_auth_config
from connectors.graphql_api.server import ApiServer
from streams.client import RESULT_TIMEOUT_S
from streams.kafka_config import check_connection, use_config_file
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
    args = parser.parse_args()
    if args.kafka_config is not None:
        use_config_file(args.kafka_config)
    check_connection(args.bootstrap_servers)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    auth = None if args.auth_config is None else load_auth_config(args.auth_config)
    ApiServer(args.bootstrap_servers, Topics(prefix=args.topic_prefix), host=args.host,
              port=args.port, result_timeout_s=args.result_timeout,
              auth=auth).serve_forever()


if __name__ == "__main__":
    main()
