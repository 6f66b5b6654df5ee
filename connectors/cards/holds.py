"""What each card authorization still holds, read from the ledger's own transactions.

A reversal releases part of a hold and a clearing releases what is left, so the engine must
know, per authorization, how much is still held on the PENDING layer. That figure is never
kept anywhere but in the ledger: it is the PENDING net of the cardholder's entries of every
transaction correlated with the hold (the hold, its partial releases, its clearings, a
void). The book folds those transactions from the transactions topic (read_committed, from
the beginning) and from the results of the engine's own commands, which arrive first. Each
transaction counts once by id: a voided original is written again with ``voided_by`` set,
and a result and its topic record are the same transaction.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from uuid import UUID

from confluent_kafka import Consumer, Message, TopicPartition

from connectors.graphql_api.consumer_thread import ConsumerThread
from ledger_core import Direction, Layer, PostedTransaction, card_lifecycle
from schemas import mapping
from schemas.codec import DecodeError, codec
from streams.kafka_config import kafka_config
from streams.offsets import end_offset
from streams.topics import Topics

__all__ = ["Hold", "HoldBook", "card_transaction"]

log = logging.getLogger(__name__)

POLL_S = 0.1
CARD_TRAN_CODES = frozenset(code.code for code in card_lifecycle.TRAN_CODES) - {"DEPOSIT"}


@dataclass
class Hold:
    """One authorization's transactions and what they still hold."""

    # transaction id -> its PENDING effect on the cardholder (debit positive)
    effects: dict[UUID, Decimal] = field(default_factory=dict)
    voided: bool = False
    # the cardholder's account, so a reversal that carries no card data finds it
    account_id: UUID | None = None

    @property
    def held(self) -> Decimal:
        """What the authorization still holds on PENDING."""
        return sum(self.effects.values(), Decimal(0))


def card_transaction(posted: PostedTransaction) -> bool:
    """True for a transaction booked through a card tran code (or a void of one)."""
    return posted.transaction.tran_code in CARD_TRAN_CODES or \
        posted.transaction.void_of is not None


def _cardholder_effect(posted: PostedTransaction) -> Decimal:
    """The transaction's PENDING effect on the cardholder its metadata names (debit
    positive); none for a transaction that names no cardholder."""
    metadata = posted.transaction.metadata or {}
    cardholder = _uuid(str(metadata.get("cardholder", "")))
    effect = Decimal(0)
    for entry in posted.entries:
        if entry.account_id == cardholder and entry.layer is Layer.PENDING:
            effect += entry.units if entry.direction is Direction.DEBIT else -entry.units
    return effect


class HoldBook(ConsumerThread):
    """Every card authorization's hold, by correlation id (the hold's transaction id)."""

    def __init__(self, bootstrap: str, topics: Topics) -> None:
        self.bootstrap = bootstrap
        self.topics = topics
        self._holds: dict[UUID, Hold] = {}
        self._lock = threading.Lock()
        self._caught_up = threading.Event()
        self._ends: dict[int, int] = {}
        self._positions: dict[int, int] = {}
        self._probe: Consumer | None = None
        super().__init__("card-holds", POLL_S, 1000)

    def start(self) -> None:
        """Read the transactions topic from the beginning; ``wait_ready`` until its end."""
        config = kafka_config(self.bootstrap, {
            "client.id": "ledger-card-holds", "group.id": f"card-holds-{uuid.uuid4()}",
            "isolation.level": "read_committed", "enable.auto.commit": False,
            "enable.partition.eof": False,
        })
        consumer = Consumer(config)
        self._probe = Consumer(config)
        partitions = range(self.topics.partitions)
        self._ends = {p: end_offset(consumer, self.topics.transactions, p) for p in partitions}
        self._ends = {p: end for p, end in self._ends.items() if end > 0}
        if not self._ends:
            self._caught_up.set()
        consumer.assign([TopicPartition(self.topics.transactions, p, 0) for p in partitions])
        self._launch(consumer)

    def stop(self) -> None:
        """Stop following the transactions."""
        super().stop()
        if self._probe is not None:
            self._probe.close()
            self._probe = None

    async def caught_up(self, partition: int, timeout_s: float) -> bool:
        """True once the book has read ``partition`` of the transactions topic as far as it
        is committed now: then it holds every transaction decided before this call."""
        assert self._probe is not None, "start the book first"
        probe = self._probe
        end = await asyncio.to_thread(end_offset, probe, self.topics.transactions, partition)
        deadline = time.monotonic() + timeout_s
        while self._positions.get(partition, 0) < end:
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.005)
        return True

    def wait_ready(self, timeout_s: float) -> bool:
        """True once the book has read the transactions written before it started."""
        return self._caught_up.wait(timeout_s)

    def _handle(self, consumer: Consumer, messages: list[Message]) -> None:
        for message in messages:
            if message.error() is not None:
                continue
            try:
                posted = mapping.posted_from(codec().decode("transaction", message.value()))
            except (DecodeError, ValueError, KeyError) as exc:
                log.error("card holds: %s[%s]@%s does not decode: %s", message.topic(),
                          message.partition(), message.offset(), exc)
                continue
            if card_transaction(posted):
                self.apply(posted)
        # The position, not the last record: a transaction's commit marker follows it.
        for part in consumer.position([TopicPartition(self.topics.transactions, p)
                                       for p in range(self.topics.partitions)]):
            self._positions[part.partition] = max(part.offset,
                                                  self._positions.get(part.partition, 0))
            if part.partition in self._ends and part.offset >= self._ends[part.partition]:
                del self._ends[part.partition]
                if not self._ends:
                    self._caught_up.set()

    def apply(self, posted: PostedTransaction) -> None:
        """Count one card transaction (again: the same id replaces its earlier effect)."""
        transaction = posted.transaction
        correlation = _uuid(transaction.correlation_id)
        if correlation is None:
            return
        with self._lock:
            hold = self._holds.setdefault(correlation, Hold())
            if transaction.void_of is not None:
                # A void reverses its original's entries, whatever its metadata says.
                effect = -hold.effects.get(transaction.void_of, Decimal(0))
            else:
                effect = _cardholder_effect(posted)
            hold.effects[transaction.transaction_id] = effect
            if transaction.transaction_id == correlation:
                metadata = transaction.metadata or {}
                hold.account_id = _uuid(str(metadata.get("cardholder", "")))
            if transaction.void_of == correlation or (
                    transaction.transaction_id == correlation
                    and transaction.voided_by is not None):
                hold.voided = True

    def hold(self, hold_id: UUID) -> Hold | None:
        """The authorization's hold as far as the book knows it, or None."""
        with self._lock:
            found = self._holds.get(hold_id)
            return None if found is None else Hold(dict(found.effects), found.voided,
                                                   found.account_id)


def _uuid(text: str) -> UUID | None:
    try:
        return UUID(text)
    except ValueError:
        return None
