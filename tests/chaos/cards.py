"""The card authorization server under chaos: ``ledger cards iso8583 serve`` runs beside the
processors of the faulty run, is SIGKILLed and restarted at seeded instants, and a network
sends it a seeded sequence of card messages meanwhile, over one connection.

The network behaves as one: each card's messages go one at a time (its story is
sequential), and a message that gets no answer (the server died, or stopped answering) is
sent again as its repeat MTI over a new connection until it is answered. Any answer is
final, ``91`` too.

Proven at the end, once the ledger converged: every message got an answer; each
cardholder's available(PENDING) and available(SETTLED) are what the answers imply (an
approval books, and so does a ``91`` to anything but an authorization: its booking stays in
Kafka); an approval never exceeded what the answers left available; every approved
authorization holds once and is not voided, and one that was not approved holds nothing
(its hold voided or never booked).
"""

import asyncio
import contextlib
import random
import secrets
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from connectors.cards.engine import hold_id
from connectors.cards.iso_client import Iso8583Client, Purchase
from connectors.cards.process import Iso8583Process
from iso8583_spec.message import Message
from iso8583_spec.reading import message_key
from ledger_core import DEFAULT_JOURNAL_ID, Account, Layer, VelocityLimit, card_lifecycle
from ledger_core.cards import Card, card_from_pan
from schemas import mapping
from schemas.codec import codec
from streams.client import LedgerClient
from streams.errors import LedgerError
from streams.reading import read_committed
from streams.topics import Topics
from tests.cards.conftest import new_pan

CARDHOLDERS = 6
FUNDS = Decimal("250.00")
# One attempt's wait for an answer: the server answers within its deadline (1.5 s), so a
# longer silence means it died or its connection did.
ANSWER_TIMEOUT_S = 5.0
# A message still unanswered after this long is reported, and its card's story stops.
GIVE_UP_S = 180.0
RECONNECT_PAUSE_S = 0.2
NETWORK_TIMEOUT_S = 900.0
APPROVED = "00"
LATE = "91"
BalanceKey = tuple[str, str, str]


@dataclass
class CardMessage:
    """One message of a card's story, and what became of it."""

    card: int
    kind: str  # "authorization", "advice", "reversal" or "clearing"
    purchase: Purchase
    hold: uuid.UUID  # the id of the hold its purchase's authorization (or advice) books
    stan: str
    # authorization, advice, clearing: the amount; reversal: what stays authorized
    amount: Decimal
    answer: str | None = None  # field 39 of its answer
    answered_at: datetime | None = None
    attempts: int = 0

    def message(self, repeat: bool) -> Message:
        """The message, or its repeat."""
        if self.kind == "authorization":
            return self.purchase.authorization(repeat)
        if self.kind == "advice":
            return self.purchase.advice(repeat)
        if self.kind == "reversal":
            return self.purchase.reversal(self.stan, self.amount or None, repeat)
        return self.purchase.clearing(self.stan, self.amount, repeat)

    @property
    def asked(self) -> bool:
        """True for the message that asks for the purchase (which the others follow)."""
        return self.kind in ("authorization", "advice")

    def took_effect(self, bookings: "Bookings") -> bool:
        """True if it is approved, or answered late and booked all the same (anything but an
        authorization: a late hold is voided)."""
        return self.answer == APPROVED or (self.answer == LATE and self.kind != "authorization"
                                           and bookings.has(self))


@dataclass
class Bookings:
    """What the transactions topic holds of one cardholder's purchases, by hold id."""

    # how often each hold was booked
    holds: Counter[uuid.UUID] = field(default_factory=Counter)
    voided: set[uuid.UUID] = field(default_factory=set)
    # the holds that a release, or a settlement, is correlated with
    released: set[str] = field(default_factory=set)
    settled: set[str] = field(default_factory=set)

    def has(self, message: CardMessage) -> bool:
        """True if ``message`` was booked (each purchase has one reversal and one clearing at
        most, so a release or a settlement of its hold is that message's)."""
        if message.asked:
            return message.hold in self.holds
        return str(message.hold) in (self.released if message.kind == "reversal"
                                     else self.settled)


@dataclass(frozen=True)
class Story:
    """One purchase of a card: how it is asked for, and what follows if it is approved."""

    first: CardMessage
    then: tuple[CardMessage, ...]


class ChaosCards:
    """The card program of the faulty run: cardholders, the server, the network."""

    def __init__(self, bootstrap: str, topics: Topics, home: Path, seed: int,
                 purchases: int, duration_s: float) -> None:
        self.bootstrap = bootstrap
        self.topics = topics
        self.rng = random.Random(seed * 104729)
        self.pan_key = secrets.token_hex(32)
        self.server = Iso8583Process(bootstrap, home / "card-server.log", self.pan_key,
                                     topics.prefix)
        self.network_log = home / "card-network.log"
        self.pans = [new_pan(self.rng) for _ in range(CARDHOLDERS)]
        self.accounts: list[uuid.UUID] = []
        self.stories = _stories(self.rng, self.pans, purchases)
        self.duration_s = duration_s
        self.problems: list[str] = []
        self._network: threading.Thread | None = None
        self._finished = False

    @property
    def account_ids(self) -> frozenset[str]:
        """Every account the card program books on."""
        return frozenset(str(a) for a in (*self.accounts, card_lifecycle.SETTLEMENT.account_id,
                                          card_lifecycle.CASH.account_id))

    @property
    def messages(self) -> list[CardMessage]:
        """Every message sent so far, in story order."""
        return [m for story in self.stories for m in (story.first, *story.then)
                if m.attempts]

    def start(self, client: LedgerClient) -> None:
        """Create the card program and its funded cardholders, start the server, and let the
        network begin its stories."""
        for entity in (card_lifecycle.CASH, card_lifecycle.SETTLEMENT,
                       *card_lifecycle.TRAN_CODES):
            assert client.create(entity, timeout_s=120).ok, entity
        self.accounts = [_cardholder(client, i, pan, self.pan_key)
                         for i, pan in enumerate(self.pans)]
        self.server.start()
        self._network = threading.Thread(target=lambda: asyncio.run(self._run()),
                                         name="card-network")
        self._network.start()

    def kill(self) -> str:
        """SIGKILL the server and start it again; the fault's description."""
        self.server.kill()
        self._restart()
        return "SIGKILL the card server"

    def revive(self) -> list[str]:
        """Restart the server if it exited by itself (a supervisor's job), until the network
        is done."""
        if self._finished or self.server.alive:
            return []
        self._restart()
        return ["the card server exited by itself; restarted"]

    def _restart(self) -> None:
        try:
            self.server.start()
        except LedgerError as exc:
            self.problems.append(f"cards: the server did not restart: {exc}")

    def finish(self, revive: Callable[[], None]) -> None:
        """Wait for the network's last answer (reviving what dies meanwhile), then stop the
        server: its bookings are all in Kafka before the ledger converges."""
        assert self._network is not None
        deadline = time.monotonic() + NETWORK_TIMEOUT_S
        while self._network.is_alive() and time.monotonic() < deadline:
            revive()
            self._network.join(5)
        if self._network.is_alive():
            self.problems.append(f"cards: the network was still sending after "
                                 f"{NETWORK_TIMEOUT_S:.0f}s")
        self._finished = True
        self.server.stop()
        # What the network saw, beside the server's log, for a failure's post-mortem.
        self.network_log.write_text("".join(
            f"{m.answered_at} card {m.card} {m.kind} STAN {m.stan} hold {m.hold}: answer "
            f"{m.answer} after {m.attempts} attempt(s)\n" for m in self.messages))

    def answers(self) -> dict[str, int]:
        """How many messages got each final answer, by kind."""
        return dict(Counter(f"{m.kind} {m.answer}" for m in self.messages))

    async def _run(self) -> None:
        link = _Link(lambda: self.server.port)
        per_card: dict[int, list[Story]] = defaultdict(list)
        for story in self.stories:
            per_card[story.first.card].append(story)
        started = time.monotonic()
        try:
            async with asyncio.timeout(NETWORK_TIMEOUT_S):
                await asyncio.gather(*(self._card(link, stories, started)
                                       for stories in per_card.values()))
        finally:
            await link.close()

    async def _card(self, link: "_Link", stories: list[Story], started: float) -> None:
        """One card's purchases, spread over the workload's duration, one message at a
        time."""
        for i, story in enumerate(stories):
            await asyncio.sleep(max(0.0, started + i * self.duration_s / len(stories)
                                    - time.monotonic()))
            if not await self._until_answered(link, story.first):
                return
            if story.first.answer != APPROVED:
                continue
            for message in story.then:
                if not await self._until_answered(link, message):
                    return

    async def _until_answered(self, link: "_Link", sent: CardMessage) -> bool:
        """Send ``sent``, then its repeat, until it is answered; False if it never was."""
        try:
            async with asyncio.timeout(GIVE_UP_S):
                while sent.answer is None:
                    client, generation = await link.current()
                    sent.attempts += 1
                    try:
                        answer = await client.send(sent.message(repeat=sent.attempts > 1),
                                                   ANSWER_TIMEOUT_S)
                    except (TimeoutError, OSError):
                        await link.broken(generation)
                        continue
                    sent.answer, sent.answered_at = answer.get(39), datetime.now(UTC)
                return True
        except TimeoutError:
            self.problems.append(f"cards: the {sent.kind} STAN {sent.stan} of card {sent.card} "
                                 f"had no answer after {sent.attempts} attempts in "
                                 f"{GIVE_UP_S:.0f}s")
            return False

    def prove(self, balances: dict[BalanceKey, tuple[Any, ...]]) -> list[str]:
        """Everything wrong with what the answers imply, once the ledger converged."""
        problems = list(self.problems)
        bookings = self._bookings()
        for card, account in enumerate(self.accounts):
            sent = [m for m in self.messages if m.card == card]
            booked = bookings[str(account)]
            problems += [f"cards: card {card}'s {m.kind} STAN {m.stan} has no answer"
                         for m in sent if m.answer is None]
            problems += _booking_problems(card, sent, booked)
            problems += _balance_problems(card, sent, booked, balances.get(
                (str(account), str(DEFAULT_JOURNAL_ID), "USD")))
            problems += _hold_problems(card, sent, booked)
        return problems

    def _bookings(self) -> dict[str, Bookings]:
        """Per cardholder: the card bookings on the transactions topic."""
        bookings: dict[str, Bookings] = defaultdict(Bookings)
        voided: set[uuid.UUID] = set()
        for record in read_committed(self.bootstrap, self.topics.transactions,
                                     range(self.topics.partitions)):
            transaction = mapping.posted_from(codec().decode("transaction",
                                                             record.value())).transaction
            booked = bookings[str((transaction.metadata or {}).get("cardholder"))]
            correlation = str(transaction.correlation_id)
            if transaction.void_of is not None:
                voided.add(transaction.void_of)
            # A voided original is written again with ``voided_by`` set: the same booking.
            elif transaction.tran_code == "CARD_HOLD" and transaction.voided_by is None:
                booked.holds[transaction.transaction_id] += 1
            elif transaction.tran_code == "CARD_RELEASE":
                booked.released.add(correlation)
            elif transaction.tran_code == "CARD_SETTLE":
                booked.settled.add(correlation)
        for booked in bookings.values():
            booked.voided = voided & booked.holds.keys()
        return bookings


class _Link:
    """The network's one connection to the server, opened again once it stops answering;
    every card's messages share it."""

    def __init__(self, port: Callable[[], int]) -> None:
        self.port = port
        self.client: Iso8583Client | None = None
        self.generation = 0
        self._lock = asyncio.Lock()

    async def current(self) -> tuple[Iso8583Client, int]:
        """The open connection (opening one if there is none) and its generation."""
        async with self._lock:
            while self.client is None:
                client = Iso8583Client("ascii")
                try:
                    await client.connect("127.0.0.1", self.port())
                except OSError:
                    # The server is restarting (its port changes once it listens again).
                    await asyncio.sleep(RECONNECT_PAUSE_S)
                    continue
                self.client = client
                self.generation += 1
            return self.client, self.generation

    async def broken(self, generation: int) -> None:
        """Drop the connection of ``generation``, unless another message already did."""
        async with self._lock:
            if generation == self.generation:
                await self._drop()

    async def close(self) -> None:
        """Close the connection."""
        async with self._lock:
            await self._drop()

    async def _drop(self) -> None:
        if self.client is not None:
            with contextlib.suppress(OSError):
                await self.client.close()
            self.client = None


def _booking_problems(card: int, sent: list[CardMessage], booked: Bookings) -> list[str]:
    """An approval must be booked; and a late answer to anything but an authorization says
    that its booking stays in Kafka, so it must be booked too."""
    return [f"cards: card {card}'s {m.kind} STAN {m.stan} was answered {m.answer} (attempts: "
            f"{m.attempts}) and never booked" for m in sent
            if (m.answer == APPROVED or (m.answer == LATE and m.kind != "authorization"))
            and not booked.has(m)]


def _balance_problems(card: int, sent: list[CardMessage], booked: Bookings,
                      balance: tuple[Any, ...] | None) -> list[str]:
    """The cardholder's available(SETTLED) and available(PENDING) against the answers; and
    no approval past what the answers left available (the no-overdraft limit)."""
    settled = FUNDS
    held: dict[str, Decimal] = {}
    problems = []
    for m in sent:
        if not m.took_effect(booked):
            continue
        purchase = m.purchase.stan
        if m.kind == "authorization" and m.amount > settled - sum(held.values()):
            problems.append(f"cards: card {card}'s authorization STAN {m.stan} of {m.amount} "
                            f"was approved with {settled - sum(held.values())} available")
        if m.kind in ("authorization", "advice"):
            held[purchase] = m.amount
        elif m.kind == "reversal":
            held[purchase] = min(held[purchase], m.amount)
        else:
            settled -= m.amount
            held[purchase] -= min(held[purchase], m.amount)
    pending = settled - sum(held.values())
    if balance is None:
        return [*problems, f"cards: card {card}'s account has no balance"]
    settled_dr, settled_cr, pending_dr, pending_cr = (Decimal(str(v)) for v in balance[:4])
    found = (settled_cr - settled_dr, settled_cr + pending_cr - settled_dr - pending_dr)
    if found != (settled, pending):
        problems.append(f"cards: card {card}'s available (SETTLED, PENDING) is {found}, the "
                        f"answers imply {(settled, pending)}")
    return problems


def _hold_problems(card: int, sent: list[CardMessage], bookings: Bookings) -> list[str]:
    """Each approved authorization (or advice) held once and was not voided; one that was
    not approved holds nothing: its hold was voided (booked late) or never booked."""
    asked = [m for m in sent if m.asked]
    approved = {m.hold for m in asked if m.took_effect(bookings)}
    refused = {m.hold for m in asked if not m.took_effect(bookings)}
    booked, voided = bookings.holds, bookings.voided
    late = refused & voided
    problems = []
    if booked.total() != len(approved) + len(late):
        problems.append(f"cards: card {card} has {booked.total()} CARD_HOLD bookings, for "
                        f"{len(approved)} approved and {len(late)} voided late")
    problems += [f"cards: card {card}'s approved hold {h} was voided"
                 for h in sorted(approved & voided)]
    problems += [f"cards: card {card}'s approved hold {h} was never booked"
                 for h in sorted(approved - booked.keys())]
    problems += [f"cards: card {card}'s hold {h} was booked {n} times"
                 for h, n in booked.items() if n > 1]
    problems += [f"cards: card {card}'s refused hold {h} is still held"
                 for h in sorted((refused & booked.keys()) - voided)]
    problems += [f"cards: card {card}'s hold {h} answers to no authorization"
                 for h in sorted(booked.keys() - approved - refused)]
    return problems


def _stories(rng: random.Random, pans: list[str], purchases: int) -> list[Story]:
    """``purchases`` purchases over the cards, each an authorization (an advice now and then)
    followed, if approved, by a full or partial reversal, clearings, or nothing."""
    base = datetime.now(UTC).replace(microsecond=0)
    numbers = iter(range(1, 1_000_000))

    def stan() -> str:
        return f"{next(numbers):06d}"

    stories = []
    for i in range(purchases):
        card = i % len(pans)
        number = stan()
        purchase = Purchase(pan=pans[card], stan=number, rrn=f"CHAOS{number:0>7}",
                            transmitted=base, amount=Decimal(rng.randrange(500, 9000)) / 100)
        advice = rng.random() < 0.1
        # A stand-in purchase's reversal and clearing name its 0120 in field 90.
        purchase = replace(purchase, stand_in=advice)
        hold = hold_id(message_key(purchase.advice() if advice else purchase.authorization()))
        first = CardMessage(card, "advice" if advice else "authorization", purchase, hold,
                            number, purchase.amount)
        then = [CardMessage(card, kind, purchase, hold, stan(), amount)
                for kind, amount in _follow_ups(rng, purchase.amount)]
        stories.append(Story(first, tuple(then)))
    return stories


def _follow_ups(rng: random.Random, amount: Decimal) -> list[tuple[str, Decimal]]:
    """What follows an approved purchase: a full reversal, a partial one then a clearing, a
    clearing (of the amount, less, or more: a tip), or nothing (it stays held)."""
    draw = rng.random()
    part = (amount * Decimal(rng.randrange(20, 80)) / 100).quantize(Decimal("0.01"))
    if draw < 0.2:
        return [("reversal", Decimal(0))]
    if draw < 0.35:
        return [("reversal", part), ("clearing", part)]
    if draw < 0.85:
        factor = rng.choice((Decimal(1), Decimal("0.8"), Decimal("1.15")))
        return [("clearing", (amount * factor).quantize(Decimal("0.01")))]
    return []


def _cardholder(client: LedgerClient, number: int, pan: str, pan_key: str) -> uuid.UUID:
    """A funded account with a no-overdraft limit on available(PENDING), and its card."""
    account = Account.model_validate({"accountId": str(uuid.uuid4()),
                                      "code": f"CHAOS.CARDHOLDER.{number}",
                                      "name": f"Cardholder {number}",
                                      "normalBalanceType": "CREDIT"})
    card = card_from_pan(uuid.uuid4(), account.account_id, pan, pan_key.encode())
    assert isinstance(card, Card), "a PAN with a valid check digit"
    for entity in (account, VelocityLimit.no_overdraft(account.account_id, layer=Layer.PENDING),
                   card):
        assert client.create(entity, timeout_s=120).ok, entity
    funded = client.post(uuid.uuid4(), "DEPOSIT", {"account": str(account.account_id),
                                                   "amount": str(FUNDS)},
                         account.account_id, timeout_s=120)
    assert funded.ok, funded
    return account.account_id
