"""The authorization engine: a card event becomes ledger commands, and their result a decision.

The engine decides nothing about money itself. The cardholder's account carries a
no-overdraft limit on available(PENDING), and the processor that owns the account judges
the hold against it, serially, so concurrent authorizations can never overdraw it. The
engine finds the card, books the event through the card tran codes, and maps the result:

| event | booking |
|---|---|
| AUTHORIZATION | ``CARD_HOLD`` of the amount on PENDING, judged against the limit |
| ADVICE | ``CARD_HOLD`` with the limit's enforcement overridden to WARN (stand-in) |
| REVERSAL | ``CARD_RELEASE`` of what is held above the replacement amount |
| CLEARING | ``CARD_SETTLE``: the cleared amount on SETTLED, and the hold released |

Every booking's transaction id derives from the message's key, so a repeated message books
nothing new: the ledger answers ``transaction_id_duplicate`` and the engine answers the
first decision again. A decision that is not back by the deadline is answered as
``LEDGER_TIMEOUT``; for an authorization the engine then sends a void of the hold at once.
The void reaches the same partition after the hold, so whenever the hold is booked, late,
it is released, even if this process stops in between.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid5

from confluent_kafka import KafkaError, KafkaException

from connectors.cards.directory import CardDirectory
from connectors.cards.events import (
    CardEvent,
    CardEventKind,
    Decision,
    DecisionCode,
    UnansweredError,
)
from connectors.cards.holds import HoldBook
from connectors.graphql_api.errors import ResultTimeoutError
from connectors.graphql_api.results import ResultWaiter
from ledger_core import Enforcement, RejectionCode, Status
from streams.client import Delivered, LedgerClient, Result
from streams.errors import CommandRefusedError, LedgerError
from streams.partitioning import owner_partition

__all__ = ["DEADLINE_S", "AuthorizationEngine", "hold_id"]

log = logging.getLogger(__name__)

DEADLINE_S = 1.5
# How long a booking that missed its deadline is still followed, to log how it ended.
LATE_RESULT_TIMEOUT_S = 120.0
DECISIONS_KEPT_MAX = 200_000
# How long a 91 waits for Kafka to confirm what it promises (the booking, or the void).
CONFIRM_S = 0.5
_NAMESPACE = UUID("5b3c0f0e-8f0a-4c4e-9d7e-0c2a7d1e6b11")
_APPROVAL_ALPHABET = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"
_REJECTION_DECISIONS = {
    RejectionCode.VELOCITY_LIMIT_EXCEEDED: DecisionCode.INSUFFICIENT_FUNDS,
    RejectionCode.ACCOUNT_LOCKED: DecisionCode.ACCOUNT_LOCKED,
    RejectionCode.AMOUNT_INVALID: DecisionCode.AMOUNT_INVALID,
    RejectionCode.CURRENCY_INVALID: DecisionCode.AMOUNT_INVALID,
    RejectionCode.PARAM_TYPE_INVALID: DecisionCode.AMOUNT_INVALID,
}


def _reporter(loop: asyncio.AbstractEventLoop,
              delivered: asyncio.Future[KafkaError | None]) -> Delivered:
    """A delivery callback (called on the producer's thread) that resolves ``delivered``."""
    def report(error: KafkaError | None) -> None:
        def resolve() -> None:
            if not delivered.done():
                delivered.set_result(error)

        # A closed loop raises RuntimeError: nobody waits for this delivery any more.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(resolve)
    return report


def hold_id(hold_key: str) -> UUID:
    """The transaction id of the hold that the authorization ``hold_key`` books."""
    return uuid5(_NAMESPACE, f"hold|{hold_key}")


def _booking_id(event: CardEvent) -> UUID:
    return uuid5(_NAMESPACE, f"{event.kind.value.lower()}|{event.key}")


def _approval_code(hold: UUID) -> str:
    """Six characters derived from the hold, so a repeat gets the same code."""
    number = int.from_bytes(hashlib.sha256(hold.bytes).digest()[:8], "big")
    code = ""
    for _ in range(6):
        number, digit = divmod(number, len(_APPROVAL_ALPHABET))
        code += _APPROVAL_ALPHABET[digit]
    return code


class AuthorizationEngine:
    """Books card events in the ledger and decides them (the ``Decider`` of the front doors)."""

    def __init__(self, client: LedgerClient, results: ResultWaiter, directory: CardDirectory,
                 holds: HoldBook, deadline_s: float = DEADLINE_S) -> None:
        self.client = client
        self.results = results
        self.directory = directory
        self.holds = holds
        self.deadline_s = deadline_s
        self._decisions: OrderedDict[str, Decision] = OrderedDict()
        self._locks: dict[str, asyncio.Lock] = {}
        self._late: set[asyncio.Task[Any]] = set()
        # Holds whose void this process sent: never approved again, whatever the book says.
        self._voided: set[UUID] = set()

    async def decide(self, event: CardEvent) -> Decision:
        """Book ``event`` once, whatever the repeats, and decide it within the deadline."""
        started = time.monotonic()
        decision = await self._decide(event)
        log.info("card %s %s: %s (%s) in %.1f ms", event.kind.value, event.key,
                 decision.code.value, decision.message, (time.monotonic() - started) * 1000)
        return decision

    async def _decide(self, event: CardEvent) -> Decision:
        known = self._decisions.get(event.key)
        if known is not None:
            return known
        refused = self._refused(event)
        if refused is not None:
            return refused
        account = await self._account(event)
        if isinstance(account, Decision):
            return account
        lock = self._locks.setdefault(event.hold_key, asyncio.Lock())
        try:
            async with lock:
                known = self._decisions.get(event.key)
                if known is not None:
                    return known
                return self._remember(event, await self._within_deadline(event, account))
        finally:
            if not lock.locked():
                self._locks.pop(event.hold_key, None)

    async def _account(self, event: CardEvent) -> UUID | Decision:
        """The cardholder's account, or the decision when there is none to book on."""
        if event.account_id is not None:
            return event.account_id
        if event.pan is None and event.card_token is None:
            # Only a reversal may name its card by the authorization alone (field 90).
            hold = self.holds.hold(hold_id(event.hold_key))
            if hold is None or hold.account_id is None:
                return Decision(DecisionCode.APPROVED, "no authorization is held for it")
            return hold.account_id
        card = await self.directory.card(event.pan, event.card_token)
        if card is None:
            return Decision(DecisionCode.UNKNOWN_CARD, "no card with this number")
        if card.status is Status.LOCKED and event.kind is CardEventKind.AUTHORIZATION:
            return self._remember(event, Decision(DecisionCode.CARD_LOCKED,
                                                  f"card {card.card_id} is LOCKED"))
        return card.account_id

    @staticmethod
    def _refused(event: CardEvent) -> Decision | None:
        if event.amount <= 0 and event.kind is not CardEventKind.REVERSAL:
            return Decision(DecisionCode.AMOUNT_INVALID, f"amount {event.amount} is not positive")
        if event.replacement_amount is not None and not (
                0 <= event.replacement_amount <= event.amount):
            return Decision(DecisionCode.AMOUNT_INVALID,
                            f"replacement amount {event.replacement_amount} is not between 0 "
                            f"and the original amount {event.amount}")
        return None

    def _remember(self, event: CardEvent, decision: Decision) -> Decision:
        # A system error is tried again on a repeat; so is a late advice, reversal or
        # clearing, whose booking goes on (an authorization's 91 stands: its hold is voided).
        transient = decision.code is DecisionCode.SYSTEM_ERROR or (
            decision.code is DecisionCode.LEDGER_TIMEOUT
            and event.kind is not CardEventKind.AUTHORIZATION)
        if not transient:
            self._decisions[event.key] = decision
            while len(self._decisions) > DECISIONS_KEPT_MAX:
                self._decisions.popitem(last=False)
        return decision

    async def _within_deadline(self, event: CardEvent, account: UUID) -> Decision:
        loop = asyncio.get_running_loop()
        booked: asyncio.Future[KafkaError | None] = loop.create_future()
        booking = asyncio.ensure_future(self._book(event, account, _reporter(loop, booked)))
        try:
            return await asyncio.wait_for(asyncio.shield(booking), self.deadline_s)
        except TimeoutError:
            pass
        except (ResultTimeoutError, CommandRefusedError, KafkaException, LedgerError) as exc:
            log.error("card %s %s: not booked: %s", event.kind.value, event.key, exc)
            return Decision(DecisionCode.SYSTEM_ERROR, f"not booked: {exc}")
        self._late.add(booking)
        booking.add_done_callback(lambda task: self._ended_late(event, task))
        hold = hold_id(event.hold_key)
        if event.kind is CardEventKind.AUTHORIZATION:
            # The void follows the hold on its partition, so once Kafka has it the hold is
            # released whenever it is booked, whatever happens to this process; a 91 is
            # answered only then.
            self._voided.add(hold)
            voided: asyncio.Future[KafkaError | None] = loop.create_future()
            self.client.send_void(hold, account, delivered=_reporter(loop, voided))
            await self._confirmed(voided, event, "the void of its hold")
            return Decision(DecisionCode.LEDGER_TIMEOUT,
                            f"no decision within {self.deadline_s:g}s: declined, and the hold "
                            f"{hold} is voided if it is booked late")
        # The network hears 91 and may repeat: the booking is in Kafka, and a repeat gets its
        # decision once there is one.
        await self._confirmed(booked, event, "its booking")
        return Decision(DecisionCode.LEDGER_TIMEOUT,
                        f"no decision within {self.deadline_s:g}s; the booking is in Kafka "
                        "and a repeat of the message is safe")

    async def _confirmed(self, delivered: asyncio.Future[KafkaError | None], event: CardEvent,
                         what: str) -> None:
        """Return once Kafka has confirmed ``delivered``; UnansweredError if it does not
        within CONFIRM_S, or refuses it."""
        deadline = time.monotonic() + CONFIRM_S
        while not delivered.done():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise UnansweredError(f"card {event.kind.value} {event.key}: Kafka has not "
                                      f"confirmed {what} within {CONFIRM_S:g}s")
            await asyncio.to_thread(self.client.poll, min(0.02, remaining))
        error = delivered.result()
        if error is not None:
            raise UnansweredError(f"card {event.kind.value} {event.key}: Kafka refused {what}: "
                                  f"{error}")

    def _ended_late(self, event: CardEvent, booking: asyncio.Task[Decision]) -> None:
        self._late.discard(booking)
        if booking.cancelled():
            return
        failure = booking.exception()
        if failure is not None:
            log.error("card %s %s: the late booking failed: %s", event.kind.value, event.key,
                      failure)
            return
        decision = booking.result()
        log.warning("card %s %s: decided after the deadline: %s (%s)", event.kind.value,
                    event.key, decision.code.value, decision.message)
        if event.kind is not CardEventKind.AUTHORIZATION:
            # A repeat of a late advice, reversal or clearing gets what the ledger decided.
            self._remember(event, decision)

    async def _book(self, event: CardEvent, account: UUID, delivered: Delivered) -> Decision:
        hold = hold_id(event.hold_key)
        common = {"account": str(account), "currency": event.currency,
                  "correlationId": str(hold)}
        if event.journal_id is not None:
            common["journal"] = str(event.journal_id)
        if event.settlement_account_id is not None:
            common["settlement"] = str(event.settlement_account_id)
        if event.kind in (CardEventKind.AUTHORIZATION, CardEventKind.ADVICE):
            stand_in = event.kind is CardEventKind.ADVICE
            result = await self._post(hold, "CARD_HOLD",
                                      {**common, "amount": event.amount, "standIn": stand_in},
                                      account, Enforcement.WARN if stand_in else None,
                                      delivered)
            return await self._hold_decision(result, hold, account, stand_in)
        held = self._held(hold)
        if event.kind is CardEventKind.REVERSAL:
            release = held - (event.replacement_amount or Decimal(0))
            if release <= 0:
                delivered(None)
                return Decision(DecisionCode.APPROVED, f"nothing held above the replacement "
                                f"amount for hold {hold}")
            result = await self._post(_booking_id(event), "CARD_RELEASE",
                                      {**common, "amount": release}, account, None, delivered)
            return self._booking_decision(result, f"released {release} of hold {hold}")
        release = held if event.final else min(held, event.amount)
        result = await self._post(_booking_id(event), "CARD_SETTLE",
                                  {**common, "amount": event.amount, "release": release},
                                  account, Enforcement.WARN, delivered)
        return self._booking_decision(result, f"settled {event.amount}, released {release} of "
                                              f"hold {hold}")

    def _held(self, hold: UUID) -> Decimal:
        found = self.holds.hold(hold)
        return Decimal(0) if found is None else max(found.held, Decimal(0))

    async def _post(self, transaction_id: UUID, tran_code: str, params: Mapping[str, Any],
                    owner: UUID, override: Enforcement | None, delivered: Delivered) -> Result:
        command_id = self.client.send_post(transaction_id, tran_code, params, owner,
                                           override=override, delivered=delivered)
        result = await self.results.wait(command_id, LATE_RESULT_TIMEOUT_S)
        if result.transaction is not None:
            self.holds.apply(result.transaction)
        return result

    async def _hold_decision(self, result: Result, hold: UUID, account: UUID,
                             stand_in: bool) -> Decision:
        if result.ok:
            flagged = " past the limit (stand-in)" if result.warnings else ""
            return Decision(DecisionCode.APPROVED, f"held as {hold}{flagged}", hold,
                            _approval_code(hold) if not stand_in else None)
        code = _rejection_code(result)
        if code is RejectionCode.TRANSACTION_ID_DUPLICATE:
            # A void sent before this repeat was decided before it, on the same partition:
            # once the book has read that far, it knows whether the hold was voided.
            partition = owner_partition(account, self.holds.topics.partitions)
            if not await self.holds.caught_up(partition, LATE_RESULT_TIMEOUT_S):
                return Decision(DecisionCode.SYSTEM_ERROR, f"the transactions of partition "
                                f"{partition} could not be read to know hold {hold}")
            booked = self.holds.hold(hold)
            if hold in self._voided or (booked is not None and booked.voided):
                return Decision(DecisionCode.LEDGER_TIMEOUT,
                                f"hold {hold} was voided after a late decision")
            return Decision(DecisionCode.APPROVED, f"already held as {hold}", hold,
                            _approval_code(hold) if not stand_in else None)
        return _declined(result, code)

    def _booking_decision(self, result: Result, done: str) -> Decision:
        if result.ok:
            posted = result.transaction
            return Decision(DecisionCode.APPROVED, done,
                            None if posted is None else posted.transaction.transaction_id)
        code = _rejection_code(result)
        if code is RejectionCode.TRANSACTION_ID_DUPLICATE:
            return Decision(DecisionCode.APPROVED, "already booked")
        return _declined(result, code)

    async def drain(self, timeout_s: float) -> None:
        """Wait for the bookings that missed their deadline (a stopping server calls it)."""
        if self._late:
            await asyncio.wait(set(self._late), timeout=timeout_s)


def _rejection_code(result: Result) -> RejectionCode | None:
    try:
        return None if result.code is None else RejectionCode(result.code)
    except ValueError:
        return None


def _declined(result: Result, code: RejectionCode | None) -> Decision:
    decision = _REJECTION_DECISIONS.get(code) if code is not None else None
    return Decision(decision or DecisionCode.SYSTEM_ERROR, f"{result.code}: {result.message}")

