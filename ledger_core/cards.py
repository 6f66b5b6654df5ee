"""Cards of a card program: each card spends from one ledger account.

A PAN is never stored. A card carries the keyed hash of its PAN (HMAC-SHA256 under the
program's key, so that a copy of the catalog does not let anyone confirm a guessed PAN
without the key) and its last four digits, which is how people recognise a card. An
authorization finds the card by that hash, or by the card processor's token.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from enum import StrEnum
from typing import Annotated
from uuid import UUID

from pydantic import AfterValidator

from ledger_core.base import LedgerModel
from ledger_core.bounded_fields import Code, JsonObject
from ledger_core.enums import Status

__all__ = [
    "PAN_KEY_LENGTH_MIN",
    "PAN_LENGTH_MAX",
    "PAN_LENGTH_MIN",
    "Card",
    "PanProblem",
    "card_from_pan",
    "pan_hash",
    "pan_problem",
]

PAN_LENGTH_MIN = 12
PAN_LENGTH_MAX = 19
# HMAC-SHA256's own block of security: a shorter key makes the hash easier to brute-force
# than the key space of a PAN already is.
PAN_KEY_LENGTH_MIN = 32

_DIGITS = re.compile(r"[0-9]+")
_HASH = re.compile(r"[0-9a-f]{64}")
_LAST_FOUR = re.compile(r"[0-9]{4}")


class PanProblem(StrEnum):
    """Why a text is not a PAN. No reason repeats the digits: they are the secret."""

    NOT_DIGITS = "pan_not_digits"
    LENGTH_INVALID = "pan_length_invalid"
    CHECK_DIGIT_INVALID = "pan_check_digit_invalid"

    @property
    def reason(self) -> str:
        """What is wrong, for a person, without the PAN."""
        return {
            PanProblem.NOT_DIGITS: "a PAN holds only the digits 0-9",
            PanProblem.LENGTH_INVALID:
                f"a PAN has {PAN_LENGTH_MIN} to {PAN_LENGTH_MAX} digits",
            PanProblem.CHECK_DIGIT_INVALID: "the PAN's check digit is wrong (Luhn)",
        }[self]


def pan_problem(pan: str) -> PanProblem | None:
    """Why ``pan`` is not a PAN (digits only, 12 to 19 of them, a valid Luhn check digit),
    or None."""
    if not _DIGITS.fullmatch(pan):
        return PanProblem.NOT_DIGITS
    if not PAN_LENGTH_MIN <= len(pan) <= PAN_LENGTH_MAX:
        return PanProblem.LENGTH_INVALID
    if not _luhn_valid(pan):
        return PanProblem.CHECK_DIGIT_INVALID
    return None


def _luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = int(char)
        if position % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def pan_hash(pan: str, key: bytes) -> str:
    """The hex HMAC-SHA256 of ``pan`` under the program's ``key``: what the catalog keeps.

    Any text hashes, so that an authorization can look up whatever a message carries (what
    is not a PAN matches no card: cards are made by ``card_from_pan``, which refuses it).
    A key shorter than PAN_KEY_LENGTH_MIN bytes is a ValueError."""
    if len(key) < PAN_KEY_LENGTH_MIN:
        raise ValueError(f"a PAN key has at least {PAN_KEY_LENGTH_MIN} bytes")
    return hmac.new(key, pan.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


def _hash_text(value: str) -> str:
    if not _HASH.fullmatch(value):
        raise ValueError("a PAN hash is 64 lowercase hex digits (HMAC-SHA256)")
    return value


def _last_four(value: str) -> str:
    if not _LAST_FOUR.fullmatch(value):
        raise ValueError("the last four are 4 digits")
    return value


def _token(value: str) -> str:
    if not value:
        raise ValueError("a card token is not empty")
    # Tokens are echoed in messages; a PAN pasted into the token field must not be stored.
    if pan_problem(value) is None:
        raise ValueError("a card token may not be a PAN")
    return value


def _active_or_locked(status: Status) -> Status:
    if status not in (Status.ACTIVE, Status.LOCKED):
        raise ValueError("a card is ACTIVE or LOCKED")
    return status


class Card(LedgerModel):
    """A card and the account it spends from; a LOCKED card authorizes nothing."""

    card_id: UUID
    account_id: UUID
    pan_hash: Annotated[str, AfterValidator(_hash_text)]
    last_four: Annotated[str, AfterValidator(_last_four)]
    card_token: Annotated[Code, AfterValidator(_token)] | None = None
    status: Annotated[Status, AfterValidator(_active_or_locked)] = Status.ACTIVE
    metadata: JsonObject | None = None


def card_from_pan(card_id: UUID, account_id: UUID, pan: str, key: bytes,
                  card_token: str | None = None) -> Card | PanProblem:
    """The card of ``pan`` (its hash under ``key`` and its last four), or why ``pan`` is not
    a PAN. The PAN itself goes no further than this function."""
    problem = pan_problem(pan)
    if problem is not None:
        return problem
    return Card(card_id=card_id, account_id=account_id, pan_hash=pan_hash(pan, key),
                last_four=pan[-4:], card_token=card_token)
