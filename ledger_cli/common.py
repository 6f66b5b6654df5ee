"""Options and helpers shared by the commands that talk to Kafka."""

import argparse
import json
from pathlib import Path
from typing import Any

import yaml

from streams.client import LedgerClient
from streams.errors import LedgerError
from streams.settings import resolve_bootstrap
from streams.topics import Topics


def add_kafka_options(parser: argparse.ArgumentParser) -> None:
    """``--bootstrap-servers``, ``--kafka-config`` and ``--topic-prefix``."""
    parser.add_argument("--bootstrap-servers", default=None,
                        help="Kafka to use (default: $KAFKA_BOOTSTRAP_SERVERS, then the broker "
                             "`ledger kafka start` started)")
    parser.add_argument("--kafka-config", type=Path, default=None, metavar="FILE",
                        help="librdkafka client properties (key=value lines: security.protocol, "
                             "sasl.*, ssl.*, ...) for every Kafka client; LEDGER_KAFKA_<PROPERTY> "
                             "variables override it (default: $LEDGER_KAFKA_CONFIG)")
    parser.add_argument("--topic-prefix", default="ledger",
                        help="the ledger's topic prefix (default: ledger)")


def topics(args: argparse.Namespace, partitions: int | None = None) -> Topics:
    """The ledger's topics named by the arguments."""
    if partitions is None:
        return Topics(prefix=args.topic_prefix)
    return Topics(prefix=args.topic_prefix, partitions=partitions)


def client(args: argparse.Namespace, watch_results: bool = True) -> LedgerClient:
    """A client for the ledger named by the arguments."""
    return LedgerClient(resolve_bootstrap(args.bootstrap_servers), topics(args),
                        watch_results=watch_results)


def load_document(path: str) -> dict[str, Any]:
    """A JSON or YAML document from a file (``-`` is stdin)."""
    text = Path("/dev/stdin").read_text() if path == "-" else Path(path).read_text()
    try:
        document = yaml.safe_load(text) if not path.endswith(".json") else json.loads(text)
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        raise LedgerError(f"{path} is not valid JSON or YAML: {exc}") from exc
    if not isinstance(document, dict):
        raise LedgerError(f"{path} must hold one object (a mapping)")
    return document


def key_values(pairs: list[str] | None) -> dict[str, str]:
    """``name=value`` arguments as a dict."""
    result = {}
    for pair in pairs or []:
        name, sep, value = pair.partition("=")
        if not sep:
            raise LedgerError(f"expected NAME=VALUE, got {pair!r}")
        result[name] = value
    return result
