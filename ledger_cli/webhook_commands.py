"""``ledger sink webhook ...``: run the webhook sink, replay events, enable a subscription."""

import argparse
import asyncio
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from connectors.webhooks import (
    FromDeadLetters,
    FromOffset,
    FromTime,
    WebhookTopics,
    load_config,
    replay,
    run_sink,
    set_status,
)
from connectors.webhooks.metrics import WebhookMetrics
from connectors.webhooks.producer import AsyncProducer
from connectors.webhooks.topics import ensure_webhook_topics
from ledger_cli.common import add_kafka_options, topics
from streams.errors import LedgerError
from streams.log_format import configure_logging
from streams.observability import (
    Readiness,
    add_observability_options,
    process_registry,
    serve_observability,
)
from streams.settings import resolve_bootstrap


def register(sinks: Any) -> None:
    """Add ``webhook`` with ``run``, ``replay`` and ``enable``."""
    webhook = sinks.add_parser("webhook", help="deliver ledger events to HTTP endpoints")
    sub = webhook.add_subparsers(dest="webhook_command", required=True)

    run = sub.add_parser("run", help="deliver events until SIGTERM (docs/webhooks.md)")
    _common(run)
    add_observability_options(run)
    run.set_defaults(handler=_run, render=_render_counts)

    again = sub.add_parser("replay", help="send a subscription's events again, same webhook-id")
    _common(again)
    again.add_argument("--subscription", required=True, help="the subscription's id")
    origin = again.add_mutually_exclusive_group(required=True)
    origin.add_argument("--from-dead-letters", action="store_true",
                        help="the subscription's dead-lettered events")
    origin.add_argument("--from-offset", type=int, metavar="OFFSET",
                        help="the source topics from this offset of every partition")
    origin.add_argument("--from-time", type=datetime.fromisoformat, metavar="TIME",
                        help="the source topics from this time (ISO 8601; UTC if no zone)")
    again.set_defaults(handler=_replay, render=_render_counts)

    enable = sub.add_parser("enable", help="enable a subscription a 410 Gone disabled")
    _common(enable)
    enable.add_argument("--subscription", required=True, help="the subscription's id")
    enable.set_defaults(handler=_enable)


def _common(parser: argparse.ArgumentParser) -> None:
    add_kafka_options(parser)
    parser.add_argument("--config", type=Path, required=True,
                        help="the subscriptions file (YAML; docs/webhooks.md)")


def _logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")


def _run(args: argparse.Namespace) -> dict[str, Any]:
    config = load_config(args.config)
    configure_logging(args.log_format)
    bootstrap = resolve_bootstrap(args.bootstrap_servers)
    registry, readiness = process_registry(), Readiness()
    server = None if args.metrics_port is None else serve_observability(
        registry, readiness, args.metrics_port, args.metrics_host)
    try:
        return asyncio.run(run_sink(bootstrap, WebhookTopics(topics(args)), config,
                                    metrics=WebhookMetrics(registry), readiness=readiness))
    finally:
        if server is not None:
            server.close()


def _replay(args: argparse.Namespace) -> dict[str, Any]:
    config = load_config(args.config)
    config.subscription(args.subscription)
    _logging()
    origin: FromDeadLetters | FromOffset | FromTime
    if args.from_dead_letters:
        origin = FromDeadLetters()
    elif args.from_offset is not None:
        if args.from_offset < 0:
            raise LedgerError("--from-offset must be 0 or more")
        origin = FromOffset(args.from_offset)
    else:
        at = args.from_time
        origin = FromTime(at if at.tzinfo is not None else at.replace(tzinfo=UTC))
    bootstrap = resolve_bootstrap(args.bootstrap_servers)
    counts = asyncio.run(replay(bootstrap, WebhookTopics(topics(args)), config,
                                args.subscription, origin))
    return {args.subscription: counts}


def _enable(args: argparse.Namespace) -> dict[str, Any]:
    config = load_config(args.config)
    config.subscription(args.subscription)
    bootstrap = resolve_bootstrap(args.bootstrap_servers)
    webhook_topics = WebhookTopics(topics(args))
    ensure_webhook_topics(bootstrap, webhook_topics)

    async def write() -> None:
        producer = AsyncProducer(bootstrap)
        try:
            await set_status(producer, webhook_topics, args.subscription, False,
                             "enabled by an operator")
        finally:
            await producer.close()

    asyncio.run(write())
    return {"enabled": args.subscription}


def _render_counts(result: dict[str, dict[str, int]]) -> str:
    return "\n".join(f"{subscription}: " + ", ".join(f"{n:,} {what.replace('_', '-')}"
                                                      for what, n in counts.items())
                     for subscription, counts in result.items())
