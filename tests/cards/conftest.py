"""A card program on the real broker: a processor, the engine, and ISO 8583 servers on loopback.

The engine and the servers run on an event loop of their own in a background thread, as in
``ledger cards iso8583 serve``; the tests speak to the servers over TCP with the network's
client, from their own event loop.
"""

from __future__ import annotations

import asyncio
import gc
import random
import threading
import uuid
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

import pytest

from connectors.cards.iso_client import Iso8583Client
from connectors.cards.iso_server import Iso8583Server
from connectors.cards.runtime import CardRuntime
from ledger_core import DEFAULT_JOURNAL_ID, Account, Layer, VelocityLimit, card_lifecycle
from ledger_core.cards import Card, card_from_pan
from streams.topics import Topics
from tests.streams.conftest import KafkaLedger

T = TypeVar("T")
PAN_KEY = b"a card program's PAN key, 32+ bytes long"
SPECS = ("ascii", "binary")


def new_pan(rng: random.Random | None = None) -> str:
    """A random 16-digit PAN with a valid check digit (drawn from ``rng`` when given)."""
    draw = rng or random
    digits = "4000" + "".join(draw.choice("0123456789") for _ in range(11))
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = int(char)
        if position % 2 == 0:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return digits + str((10 - total % 10) % 10)


@dataclass
class CardProgram:
    """A ledger with the card tran codes, an engine on it, and one server per spec variant."""

    ledger: KafkaLedger
    deadline_s: float
    runtime: CardRuntime | None = None
    loop: asyncio.AbstractEventLoop = field(default_factory=asyncio.new_event_loop)
    servers: dict[str, Iso8583Server] = field(default_factory=dict)

    def start(self) -> None:
        """Start the engine and the servers."""
        threading.Thread(target=self.loop.run_forever, name="card-loop", daemon=True).start()
        self.runtime = CardRuntime(self.ledger.bootstrap, PAN_KEY, self.ledger.topics.prefix,
                                   self.deadline_s)
        for spec in SPECS:
            server = Iso8583Server(self.runtime.engine, spec)
            self.on_loop(server.start())
            self.servers[spec] = server

    def on_loop(self, work: Coroutine[Any, Any, T]) -> T:
        """Run ``work`` on the engine's event loop and wait for it."""
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(120)

    def stop(self) -> None:
        """Stop the servers, the engine and the loop."""
        for server in self.servers.values():
            self.on_loop(server.stop())
        if self.runtime is not None:
            self.on_loop(self.runtime.engine.drain(10))
            self.runtime.close()
        self.loop.call_soon_threadsafe(self.loop.stop)

    def cardholder(self, funds: Decimal) -> tuple[UUID, str, Card]:
        """A funded account with a no-overdraft limit on available(PENDING) and its card."""
        client = self.ledger.clients[0]
        account = Account.model_validate({"accountId": str(uuid.uuid4()),
                                          "code": f"CH.{uuid.uuid4().hex[:10]}",
                                          "name": "Cardholder"})
        assert client.create(account).ok
        assert client.create(VelocityLimit.no_overdraft(account.account_id)).ok
        if funds:
            funded = client.post(uuid.uuid4(), "DEPOSIT", {"account": str(account.account_id),
                                                           "amount": str(funds)},
                                 account.account_id)
            assert funded.ok, funded
        pan = new_pan()
        card = card_from_pan(uuid.uuid4(), account.account_id, pan, PAN_KEY)
        assert isinstance(card, Card)
        assert client.create(card).ok
        return account.account_id, pan, card

    def available(self, account_id: UUID, layer: Layer = Layer.PENDING) -> Decimal:
        """The account's available(``layer``) in USD in the DEFAULT journal, once every leg
        sent so far is applied."""
        client = self.ledger.clients[0]
        client.wait_converged()
        for balance in client.balances(account_id):
            if balance.journal_id == DEFAULT_JOURNAL_ID and balance.currency == "USD":
                return balance.available(layer).normal_balance
        return Decimal(0)

    def settled(self, account_id: UUID) -> Decimal:
        """The account's available(SETTLED)."""
        return self.available(account_id, Layer.SETTLED)

    async def connect(self, spec: str) -> Iso8583Client:
        """A network's connection to the server of ``spec``."""
        client = Iso8583Client(spec)
        await client.connect("127.0.0.1", self.servers[spec].port)
        return client


def card_program(bootstrap: str, home: Path, deadline_s: float = 5.0) -> Iterator[CardProgram]:
    """A card program on fresh topics: processor, card tran codes, engine, servers."""
    ledger = KafkaLedger(bootstrap, Topics(prefix=f"c{uuid.uuid4().hex[:10]}", partitions=4),
                         home)
    ledger.add_processor()
    client = ledger.client()
    for entity in (card_lifecycle.CASH, card_lifecycle.SETTLEMENT, *card_lifecycle.TRAN_CODES):
        assert client.create(entity).ok
    program = CardProgram(ledger, deadline_s)
    program.start()
    try:
        yield program
    finally:
        program.stop()
        ledger.close()
        ledger.clients.clear()
        gc.collect()


@pytest.fixture(scope="module")
def cards(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[CardProgram]:
    """A card program shared by a module's tests; each test has cardholders of its own."""
    yield from card_program(kafka_bootstrap, tmp_path_factory.mktemp("cards"))
