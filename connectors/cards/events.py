"""What a card front door hands the authorization engine, and what it gets back.

Every front door (ISO 8583, Lithic ASA, GraphQL) decodes its own wire format into one
``CardEvent``, and turns the engine's ``Decision`` into its own response. The PAN lives
only inside a ``CardEvent``, in memory, for as long as the card lookup takes: its ``repr``
shows the last four digits, so a logged event never carries it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Protocol
from uuid import UUID

__all__ = ["CardEvent", "CardEventKind", "Decider", "Decision", "DecisionCode",
           "UnansweredError"]


class CardEventKind(StrEnum):
    """What a card network message asks the ledger to do."""

    AUTHORIZATION = "AUTHORIZATION"  # hold the amount if available(PENDING) covers it
    ADVICE = "ADVICE"  # the network approved in stand-in: hold it even past the limit
    REVERSAL = "REVERSAL"  # release the hold, or the part above replacement_amount
    CLEARING = "CLEARING"  # release (part of) the hold and settle the cleared amount


class DecisionCode(StrEnum):
    """The engine's answer; each front door maps it to its own response codes."""

    APPROVED = "APPROVED"
    INSUFFICIENT_FUNDS = "INSUFFICIENT_FUNDS"
    UNKNOWN_CARD = "UNKNOWN_CARD"
    CARD_LOCKED = "CARD_LOCKED"
    ACCOUNT_LOCKED = "ACCOUNT_LOCKED"
    AMOUNT_INVALID = "AMOUNT_INVALID"
    FORMAT_ERROR = "FORMAT_ERROR"
    SYSTEM_ERROR = "SYSTEM_ERROR"
    LEDGER_TIMEOUT = "LEDGER_TIMEOUT"  # no decision in time: declined, and a late hold is voided


@dataclass(frozen=True, slots=True)
class CardEvent:
    """One card network message, decoded.

    ``key`` identifies this message across the network's repeats and derives the ledger
    transaction it books; ``hold_key`` is the key of the authorization it concerns (its own
    key for an authorization or advice). A card is named by its PAN (ISO 8583) or by the
    processor's card token (Lithic).
    """

    kind: CardEventKind
    key: str
    hold_key: str
    amount: Decimal
    currency: str
    pan: str | None = field(default=None, repr=False)
    card_token: str | None = None
    # REVERSAL: the amount that stays authorized (None: release all of it)
    replacement_amount: Decimal | None = None
    # CLEARING: no more clearings follow, so whatever is still held is released
    final: bool = True
    # Set by a front door that already knows the cardholder's account (no card lookup).
    account_id: UUID | None = None
    # The card program's journal and settlement account (None: the card tran codes'
    # defaults, the DEFAULT journal and CARD.SETTLEMENT).
    journal_id: UUID | None = None
    settlement_account_id: UUID | None = None

    def __repr__(self) -> str:
        last_four = "" if self.pan is None else self.pan[-4:]
        return (f"CardEvent(kind={self.kind.value}, key={self.key!r}, hold_key={self.hold_key!r},"
                f" amount={self.amount}, currency={self.currency}, pan=****{last_four},"
                f" card_token={self.card_token!r}, replacement_amount={self.replacement_amount},"
                f" final={self.final}, account_id={self.account_id},"
                f" journal_id={self.journal_id},"
                f" settlement_account_id={self.settlement_account_id})")


@dataclass(frozen=True, slots=True)
class Decision:
    """The engine's decision on one card event."""

    code: DecisionCode
    message: str
    transaction_id: UUID | None = None
    # six characters, the same on every repeat of the message (APPROVED only)
    approval_code: str | None = None
    # the cardholder's available(PENDING) balance after the decision, when known
    available: Decimal | None = None

    @property
    def approved(self) -> bool:
        """True when the network may let the purchase go ahead."""
        return self.code is DecisionCode.APPROVED


class UnansweredError(Exception):
    """No decision can be answered: the deadline passed and Kafka has not confirmed the
    booking (or the void of a late hold) that a ``91`` would promise. The front door sends
    no answer, so the network repeats the message or reverses it, as it does after any
    timeout; the repeat is decided again."""


class Decider(Protocol):
    """The authorization engine as the front doors see it."""

    async def decide(self, event: CardEvent) -> Decision:
        """Book the event in the ledger (exactly once, whatever the repeats) and decide it;
        UnansweredError when no answer would be safe."""
        ...
