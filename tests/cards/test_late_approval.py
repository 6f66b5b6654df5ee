"""A decision that misses the deadline: the network hears 91, and the late hold is voided."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from connectors.cards.engine import hold_id
from connectors.cards.iso_client import Purchase
from iso8583_spec.message import Message
from iso8583_spec.reading import message_key
from ledger_core import PostedTransaction
from schemas import mapping
from schemas.codec import codec
from tests.cards.conftest import CardProgram, card_program

DEADLINE_S = 1.0


@pytest.fixture
def slow_cards(kafka_bootstrap: str, tmp_path: Path) -> Iterator[CardProgram]:
    """A card program of its own, whose processor the test stops."""
    yield from card_program(kafka_bootstrap, tmp_path, deadline_s=DEADLINE_S)


def _transactions_until(cards: CardProgram,
                        done: Callable[[dict[str, PostedTransaction]], bool],
                        timeout_s: float = 120) -> dict[str, PostedTransaction]:
    """The transactions topic, read again until ``done`` holds for it."""
    deadline = time.monotonic() + timeout_s
    while True:
        written = {}
        for message in cards.ledger.read(cards.ledger.topics.transactions):
            posted = mapping.posted_from(codec().decode("transaction", message.value()))
            written[str(posted.transaction.transaction_id)] = posted
        if done(written) or time.monotonic() > deadline:
            return written
        time.sleep(0.5)


def test_a_late_hold_is_voided_after_the_network_heard_91(slow_cards: CardProgram) -> None:
    """With the processor stopped, 0100 is answered 91 at the deadline. Once a processor is
    back, the hold is booked and then voided: nothing stays held, and a repeat of the
    authorization still answers 91; the network's stand-in advice of it is then booked."""
    account, pan, _card = slow_cards.cardholder(Decimal("20.00"))
    slow_cards.ledger.processors[0].stop()
    bought = Purchase(pan=pan, stan="424242", rrn="LATE00424242", transmitted=datetime.now(UTC),
                      amount=Decimal("12.00"))

    async def ask(message: Message) -> tuple[Message, float]:
        client = await slow_cards.connect("ascii")
        try:
            started = time.monotonic()
            answer = await client.send(message)
            return answer, time.monotonic() - started
        finally:
            await client.close()

    answer, waited = asyncio.run(ask(bought.authorization()))
    assert (answer.mti, answer.get(39), answer.get(38)) == ("0110", "91", None)
    assert waited < 30, "the answer came from the deadline, not from a result"

    slow_cards.ledger.add_processor("p2")
    hold = str(hold_id(message_key(bought.authorization())))
    written = _transactions_until(slow_cards, lambda found: any(
        str(p.transaction.void_of) == hold for p in found.values()))
    assert hold in written, "the hold was booked once the processor came back"
    assert [p for p in written.values() if str(p.transaction.void_of) == hold]
    assert slow_cards.available(account) == Decimal("20.00")
    repeat, _ = asyncio.run(ask(bought.authorization(repeat=True)))
    assert (repeat.mti, repeat.get(39)) == ("0110", "91")
    assert slow_cards.available(account) == Decimal("20.00")
    # The network approved it in stand-in meanwhile: its advice is booked as a hold of its
    # own, not answered as the declined request.
    advised, _ = asyncio.run(ask(bought.advice()))
    assert (advised.mti, advised.get(39)) == ("0130", "00")
    assert slow_cards.available(account) == Decimal("8.00")
