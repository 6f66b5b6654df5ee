"""The fields with an inner structure: dates and times, original data (90), replacement
amounts (95). Each reader returns None for text that does not have the structure."""

from __future__ import annotations

import re
from dataclasses import dataclass

from iso8583_spec.mti import is_mti

# Days in each month, February with its leap day: the fields carry no year, so 0229 is valid.
_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def digits(text: str, length: int | None = None) -> bool:
    """Only ASCII decimal digits, at least one (exactly ``length`` when given)."""
    return (bool(text) and text.isascii() and text.isdigit()
            and (length is None or len(text) == length))


def valid_month_day(text: str) -> bool:
    """MMDD (fields 13, and the date part of 7)."""
    if not digits(text, 4):
        return False
    month, day = int(text[:2]), int(text[2:])
    return 1 <= month <= 12 and 1 <= day <= _MONTH_DAYS[month - 1]


def valid_time(text: str) -> bool:
    """hhmmss (field 12, and the time part of 7)."""
    if not digits(text, 6):
        return False
    return int(text[:2]) <= 23 and int(text[2:4]) <= 59 and int(text[4:]) <= 59


def valid_transmission(text: str) -> bool:
    """MMDDhhmmss (field 7, and the original's in field 90)."""
    return len(text) == 10 and valid_month_day(text[:4]) and valid_time(text[4:])


def valid_expiry(text: str) -> bool:
    """YYMM (field 14)."""
    return digits(text, 4) and 1 <= int(text[2:]) <= 12


@dataclass(frozen=True, slots=True)
class OriginalData:
    """Field 90: what identified the message a reversal or completion refers to."""

    mti: str
    stan: str
    transmission: str   # MMDDhhmmss
    acquirer: str       # 11 digits, right-justified, zero-filled
    forwarding: str     # 11 digits, zeros when there was no forwarding institution


def original_data(text: str) -> OriginalData | None:
    """Field 90 read: 42 digits, a request or advice MTI and a valid transmission time."""
    if not digits(text, 42):
        return None
    data = OriginalData(mti=text[:4], stan=text[4:10], transmission=text[10:20],
                        acquirer=text[20:31], forwarding=text[31:42])
    if not is_mti(data.mti) or data.mti[2] not in "02" or not valid_transmission(
            data.transmission):
        return None
    return data


# Field 95: actual transaction amount n12, actual settlement amount n12, then the actual
# transaction and settlement fees, each a sign (C credit, D debit) and n8; a zero-filled fee
# without its sign is common and accepted.
_REPLACEMENT = re.compile(r"[0-9]{12}[0-9]{12}[CD0-9][0-9]{8}[CD0-9][0-9]{8}")


@dataclass(frozen=True, slots=True)
class ReplacementAmounts:
    """Field 95 read: the amounts, in minor units, that replace the original's."""

    transaction: int
    settlement: int


def replacement_amounts(text: str) -> ReplacementAmounts | None:
    if not _REPLACEMENT.fullmatch(text):
        return None
    return ReplacementAmounts(transaction=int(text[:12]), settlement=int(text[12:24]))
