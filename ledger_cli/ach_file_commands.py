"""``ledger ach file process FILE | file serve``: received NACHA files (RDFI entries, returns
and notifications of change), from the command line or uploaded over HTTP; both run
``connectors.ach.rdfi_processor.process_file``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

from pydantic import SecretStr

from connectors.ach.configurations import read_configurations
from connectors.ach.file_server import FileServer
from connectors.ach.files import AchFileStatus
from connectors.ach.rdfi_processor import RdfiSettings, process_file
from connectors.ach.topics import AchTopics
from connectors.webhooks.config import signing_key
from ledger_cli.ach_generate_commands import file_group
from ledger_cli.common import add_kafka_options
from ledger_core.ach_tran_codes import CONFIGURATION, AchConfiguration
from streams.errors import LedgerError
from streams.log_format import LOG_FORMATS, configure_logging
from streams.settings import resolve_bootstrap


def register(ach_commands: Any) -> None:
    """Add ``process`` and ``serve`` to the ``ach file`` group (made if it is not there)."""
    file_sub = file_group(ach_commands)
    process = file_sub.add_parser("process", help="process a received NACHA file (RDFI "
                                                  "entries, returns, NOCs); re-runnable")
    process.add_argument("file", type=Path, help="the NACHA file")
    _options(process)
    process.set_defaults(handler=_process, render=render_report)

    serve = file_sub.add_parser("serve", help="serve POST /ach/files (the file as the body) "
                                              "until SIGINT or SIGTERM")
    serve.add_argument("--port", type=int, required=True, help="port to listen on (0: any)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--upload-token-file", type=Path, required=True, metavar="FILE",
                       help="a file holding the token every upload must send as "
                            "Authorization: Bearer <token> (at least 24 characters)")
    _options(serve)
    serve.set_defaults(handler=_serve)


def _options(parser: argparse.ArgumentParser) -> None:
    add_kafka_options(parser)
    parser.add_argument("--config-id", default=str(CONFIGURATION.config_id),
                        help="the ACH configuration (default: the one `ledger ach setup` "
                             "creates)")
    parser.add_argument("--webhook-secret-file", type=Path, required=True, metavar="FILE",
                        help="the decisioning webhook's signing secret (whsec_...)")
    parser.add_argument("--decisioning-url", default=None,
                        help="the decisioning webhook (default: the configuration's)")
    parser.add_argument("--decisioning-timeout", type=Decimal, default=None, metavar="SECONDS",
                        help="seconds an answer may take (default: the configuration's)")
    parser.add_argument("--concurrency", type=int, default=64,
                        help="webhook calls at a time (default 64)")
    parser.add_argument("--today", type=date.fromisoformat, default=None, metavar="YYYY-MM-DD",
                        help="the day entries settle against (default: today in the "
                             "configuration's time zone)")
    parser.add_argument("--log-format", choices=LOG_FORMATS, default="text")


def resolve_configuration(bootstrap: str, prefix: str, config_id: UUID) -> AchConfiguration:
    """The latest version of the configuration ``config_id`` names."""
    found = read_configurations(bootstrap, AchTopics(prefix)).get(config_id)
    if found is None:
        raise LedgerError(f"no ACH configuration {config_id} (`ledger ach configuration "
                          "create`, or `ledger ach setup` for the example)")
    return found


def _settings(args: argparse.Namespace) -> RdfiSettings:
    try:
        config_id = UUID(args.config_id)
    except ValueError:
        raise LedgerError(f"--config-id {args.config_id!r} is not a UUID") from None
    bootstrap = resolve_bootstrap(args.bootstrap_servers)
    configuration = resolve_configuration(bootstrap, args.topic_prefix, config_id)
    overrides: dict[str, Any] = {}
    if args.decisioning_url is not None:
        overrides["decisioning_url"] = args.decisioning_url
    if args.decisioning_timeout is not None:
        overrides["decisioning_timeout_seconds"] = args.decisioning_timeout
    if overrides:
        # validated as the configuration validates its own fields
        configuration = AchConfiguration.model_validate(
            {**configuration.model_dump(), **overrides})
    return RdfiSettings(bootstrap=bootstrap, prefix=args.topic_prefix, configuration=configuration,
                        webhook_key=webhook_key(args.webhook_secret_file),
                        concurrency=max(1, args.concurrency), today=args.today)


def webhook_key(path: Path) -> bytes:
    try:
        text = path.read_text().strip()
    except OSError as exc:
        raise LedgerError(f"cannot read the webhook secret file {path}: {exc.strerror}"
                          ) from exc
    try:
        return signing_key(SecretStr(text))
    except ValueError as exc:
        raise LedgerError(f"the webhook secret file {path}: {exc}") from None


def _process(args: argparse.Namespace) -> dict[str, Any]:
    configure_logging(args.log_format)
    settings = _settings(args)
    try:
        content = args.file.read_bytes()
    except OSError as exc:
        raise LedgerError(f"cannot read {args.file}: {exc.strerror}") from exc
    report = asyncio.run(process_file(content, args.file.name, settings))
    if report.status is AchFileStatus.FAILED:
        raise LedgerError(f"file {report.file_id} FAILED: {report.error}")
    return report.to_json()


def render_report(report: dict[str, Any]) -> str:
    """One file's run, for people: never an account number."""
    stats = report["statistics"]
    lines = [f"file {report['fileId']} {report['status']} ({report.get('fileType')}): "
             f"{stats['entries']} entries, credits {stats['totalCreditCents']} cents, debits "
             f"{stats['totalDebitCents']} cents; posted {report['posted']}, already done "
             f"{report['alreadyDone']}"]
    if report["outcomes"]:
        lines.append("outcomes: " + ", ".join(f"{outcome} {count}" for outcome, count
                                              in report["outcomes"].items()))
    if report["unmatchedReturns"]:
        lines.append("unmatched returns (to suspense): " + " ".join(report["unmatchedReturns"]))
    lines += [f"unresolved {item['traceNumber']}: {item['code']}"
              for item in report["unresolved"]]
    return "\n".join(lines)


def _serve(args: argparse.Namespace) -> None:
    configure_logging(args.log_format)
    token = args.upload_token_file.read_text().strip()
    server = FileServer(_settings(args), token, host=args.host, port=args.port)
    asyncio.run(_until_stopped(server))


async def _until_stopped(server: FileServer) -> None:
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    await server.start()
    with contextlib.suppress(asyncio.CancelledError):
        await stopping.wait()
    await server.stop()
