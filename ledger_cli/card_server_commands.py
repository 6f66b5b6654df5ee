"""``ledger cards setup|iso8583 serve|lithic serve``: the card program's front doors.

Both servers decide through one ``AuthorizationEngine`` (``connectors.cards``); the Lithic
endpoint's signing secret comes from ``--secret-file`` or ``$LEDGER_LITHIC_ASA_SECRET``, in
Lithic's ``whsec_...`` form.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import uuid
from pathlib import Path
from typing import Any

from connectors.cards.engine import CONFIRM_S, DEADLINE_S
from connectors.cards.iso_server import Iso8583Server
from connectors.cards.lithic_server import AsaServer
from connectors.cards.runtime import CardRuntime
from connectors.webhooks.signing import secret_key
from ledger_cli.common import add_kafka_options, client
from ledger_core import Status, card_lifecycle
from ledger_core.iso8583_configs import Iso8583Config
from streams.card_keys import load_pan_key
from streams.errors import LedgerError
from streams.log_format import LOG_FORMATS, configure_logging
from streams.settings import resolve_bootstrap

log = logging.getLogger(__name__)

SECRET_VARIABLE = "LEDGER_LITHIC_ASA_SECRET"


def register(commands: Any) -> None:
    """Add the ``cards`` command group."""
    cards = commands.add_parser("cards", help="the card program: authorization servers")
    sub = cards.add_subparsers(dest="cards_command", required=True)
    setup = sub.add_parser("setup", help="create the card settlement account and the card tran "
                                         "codes (CARD_HOLD, CARD_RELEASE, CARD_SETTLE)")
    add_kafka_options(setup)
    setup.set_defaults(handler=_setup, render=_render_setup)

    iso = sub.add_parser("iso8583", help="the ISO 8583 authorization server")
    iso_sub = iso.add_subparsers(dest="iso_command", required=True)
    serve = iso_sub.add_parser("serve", help="serve ISO 8583 over TCP (2-byte length prefix) "
                                             "until SIGINT or SIGTERM")
    serve.add_argument("--config-id", default=None, metavar="ID",
                       help="the ISO 8583 configuration (iso8583.createConfig) to serve: its "
                            "journal, settlement account and message variant")
    serve.add_argument("--spec", choices=("ascii", "binary"), default=None,
                       help="the message variant (docs/iso8583.md; default: the "
                            "configuration's, else ascii)")
    _server_options(serve)
    serve.add_argument("--pan-key-file", type=Path, default=None, metavar="FILE",
                       help="the card program's PAN key (default: $LEDGER_CARD_PAN_KEY); the "
                            "same key `ledger card create` hashed the PANs with")
    serve.set_defaults(handler=_serve_iso8583)

    lithic = sub.add_parser("lithic", help="the Lithic Auth Stream Access (ASA) endpoint")
    lithic_sub = lithic.add_subparsers(dest="lithic_command", required=True)
    asa = lithic_sub.add_parser("serve", help="serve POST /lithic/asa until SIGINT or SIGTERM")
    asa.add_argument("--secret-file", type=Path, default=None, metavar="FILE",
                     help=f"the ASA signing secret (whsec_...; default: ${SECRET_VARIABLE})")
    _server_options(asa)
    asa.set_defaults(handler=_serve_lithic)


def _server_options(parser: argparse.ArgumentParser) -> None:
    add_kafka_options(parser)
    parser.add_argument("--port", type=int, required=True, help="port to listen on (0: any free)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--deadline", type=float, default=DEADLINE_S,
                        help="seconds a decision may take before the answer is 'issuer "
                             f"unavailable' and a late hold is voided (default {DEADLINE_S:g})")
    parser.add_argument("--log-format", choices=LOG_FORMATS, default="text",
                        help="text lines (default) or one JSON object per line")


def _setup(args: argparse.Namespace) -> dict[str, Any]:
    ledger = client(args)
    try:
        written = [ledger.create(card_lifecycle.SETTLEMENT)]
        written += [ledger.create(code) for code in card_lifecycle.TRAN_CODES
                    if code.code != "DEPOSIT"]
    finally:
        ledger.close()
    refused = [r for r in written if not r.ok]
    if refused:
        raise LedgerError(f"setup refused: {refused[0].code}: {refused[0].message}")
    return {"settlementAccount": str(card_lifecycle.SETTLEMENT.account_id),
            "tranCodes": [code.code for code in card_lifecycle.TRAN_CODES
                          if code.code != "DEPOSIT"]}


def _render_setup(result: dict[str, Any]) -> str:
    return (f"card settlement account {result['settlementAccount']}; tran codes "
            f"{', '.join(result['tranCodes'])}")


def _serve_iso8583(args: argparse.Namespace) -> None:
    configure_logging(args.log_format)
    runtime = CardRuntime(resolve_bootstrap(args.bootstrap_servers),
                          load_pan_key(args.pan_key_file), args.topic_prefix, args.deadline)
    try:
        config = None if args.config_id is None else _config(runtime, args.config_id)
        spec = args.spec or ("ascii" if config is None else config.processor_spec.variant.value)
        if config is not None and spec != config.processor_spec.variant.value:
            raise LedgerError(f"--spec {spec} differs from configuration {config.config_id}'s "
                              f"variant {config.processor_spec.variant.value}")
        server = Iso8583Server(runtime.engine, spec, args.host, args.port, config)
        asyncio.run(_until_stopped(server.start, server.stop, runtime))
    finally:
        runtime.close()


def _config(runtime: CardRuntime, config_id: str) -> Iso8583Config:
    try:
        found = runtime.directory.catalog.iso8583_config(uuid.UUID(config_id))
    except ValueError:
        raise LedgerError(f"--config-id {config_id!r} is not a UUID") from None
    if found is None:
        raise LedgerError(f"no ISO 8583 configuration {config_id} (iso8583.createConfig)")
    if found.status is Status.LOCKED:
        raise LedgerError(f"ISO 8583 configuration {config_id} was deleted")
    return found


def _serve_lithic(args: argparse.Namespace) -> None:
    configure_logging(args.log_format)
    key = _lithic_key(args.secret_file)
    # Lithic names a card by its token, never by its PAN: no PAN key is needed.
    runtime = CardRuntime(resolve_bootstrap(args.bootstrap_servers), None, args.topic_prefix,
                          args.deadline)
    try:
        # The engine answers by its deadline, plus the time a 91 waits for Kafka to confirm
        # what it promises; the endpoint's own deadline is a backstop behind both.
        server = AsaServer(runtime.engine, key, host=args.host, port=args.port,
                           deadline_s=args.deadline + CONFIRM_S + 0.5)
        asyncio.run(_until_stopped(server.start, server.stop, runtime))
    finally:
        runtime.close()


def _lithic_key(secret_file: Path | None) -> bytes:
    if secret_file is not None:
        try:
            text = secret_file.read_text().strip()
        except OSError as exc:
            raise LedgerError(f"cannot read the ASA secret file {secret_file}: "
                              f"{exc.strerror}") from exc
    else:
        text = os.environ.get(SECRET_VARIABLE, "")
        if not text:
            raise LedgerError(f"no ASA secret: set {SECRET_VARIABLE} or give --secret-file")
    try:
        return secret_key(text)
    except ValueError as exc:
        raise LedgerError(f"the ASA secret is not a whsec_ secret: {exc}") from None


async def _until_stopped(start: Any, stop: Any, runtime: CardRuntime) -> None:
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    await start()
    with contextlib.suppress(asyncio.CancelledError):
        await stopping.wait()
    await stop()
    await runtime.engine.drain(10)
