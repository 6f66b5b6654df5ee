"""``ledger ach configuration create | show``: the versioned ACH configurations."""

from __future__ import annotations

import argparse
import json
import uuid
from pathlib import Path
from typing import Any

from confluent_kafka.admin import AdminClient

from connectors.ach.configurations import create_configuration, read_versions
from connectors.ach.topics import AchTopics
from ledger_cli.common import add_kafka_options
from streams.errors import LedgerError
from streams.kafka_config import kafka_config
from streams.settings import resolve_bootstrap
from streams.topics import topic_partitions


def register(ach_commands: Any) -> None:
    """Add ``ach configuration``."""
    group = ach_commands.add_parser("configuration", help="versioned ACH configurations")
    sub = group.add_subparsers(dest="configuration_command", required=True)
    create = sub.add_parser("create", help="write a configuration's next version (the same "
                                           "as the latest writes nothing)")
    add_kafka_options(create)
    create.add_argument("--config", required=True, metavar="JSON|@FILE",
                        help="Twisp's ach.createConfiguration input as JSON, or @ and a file "
                             "that holds it")
    create.set_defaults(handler=_create)
    show = sub.add_parser("show", help="the versions of the configurations")
    add_kafka_options(show)
    show.add_argument("--config-id", type=uuid.UUID, default=None)
    show.set_defaults(handler=_show)


def _topics(args: argparse.Namespace) -> tuple[str, AchTopics]:
    bootstrap = resolve_bootstrap(args.bootstrap_servers)
    topics = AchTopics(args.topic_prefix)
    partitions = topic_partitions(AdminClient(kafka_config(bootstrap)), topics.commands)
    if partitions is None:
        raise LedgerError(f"topic {topics.commands} does not exist: run `ledger ach setup` "
                          "first")
    return bootstrap, AchTopics(args.topic_prefix, partitions)


def _create(args: argparse.Namespace) -> dict[str, Any]:
    text = Path(args.config[1:]).read_text() if args.config.startswith("@") else args.config
    try:
        body = json.loads(text)
    except ValueError as exc:
        raise LedgerError(f"--config is not JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise LedgerError("--config must be a JSON object")
    bootstrap, topics = _topics(args)
    configuration, new = create_configuration(bootstrap, topics, body)
    return {"configuration": configuration.model_dump(mode="json", by_alias=True),
            "created": new}


def _show(args: argparse.Namespace) -> dict[str, Any]:
    bootstrap, topics = _topics(args)
    versions = sorted(read_versions(bootstrap, topics).values(),
                      key=lambda c: (str(c.config_id), c.version))
    return {"configurations": [c.model_dump(mode="json", by_alias=True) for c in versions
                               if args.config_id in (None, c.config_id)]}
