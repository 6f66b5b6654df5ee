"""Fixed-width fields: their kinds, how a value becomes text, and what text each kind allows."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import Enum
from operator import mul

from nacha.errors import Rule

FieldValue = str | int | date | time

DIGITS = frozenset("0123456789")
# NACHA allows EBCDIC values above hex 3F in alphanumeric fields: in ASCII, space to tilde
ALPHANUMERIC = frozenset(chr(code) for code in range(0x20, 0x7F))


class Kind(Enum):
    """What a field holds, which decides how it is written and checked."""

    CONSTANT = "constant"          # a fixed value, such as the record type code
    NUMERIC = "numeric"            # digits, right-justified and zero-filled
    ALPHANUMERIC = "alphanumeric"  # NACHA's character set, left-justified and space-filled
    RESERVED = "reserved"          # blanks
    DATE = "date"                  # YYMMDD
    MONTH_DAY = "month_day"        # MMDD
    TIME = "time"                  # HHMM
    JULIAN = "julian"              # DDD, day of the year
    ROUTING = "routing"            # a 9-digit routing number, after a blank in a 10-wide field


@dataclass(frozen=True)
class Field:
    """One field of a record layout; ``start`` and ``end`` are 1-based and inclusive."""

    name: str
    start: int
    end: int
    kind: Kind
    constant: str = ""
    optional: bool = False   # numeric, date and time kinds may then be all blanks
    required: bool = False   # an alphanumeric field that may not be all blanks

    @property
    def width(self) -> int:
        return self.end - self.start + 1

    def render(self, value: FieldValue | None) -> str:
        """The field's text for ``value``; None gives the constant, or blanks where allowed."""
        if value is None:
            if self.kind is Kind.CONSTANT:
                return self.constant
            if self.kind in {Kind.ALPHANUMERIC, Kind.RESERVED} or self.optional:
                return " " * self.width
            raise ValueError(f"{self.name} needs a value")
        text = self._text(value)
        if len(text) > self.width:
            raise ValueError(f"{self.name} is {self.width} wide; {text!r} does not fit")
        if self.kind is Kind.ALPHANUMERIC:
            return text.ljust(self.width)
        if self.kind is Kind.ROUTING:
            return text.rjust(self.width)
        return text.rjust(self.width, "0")

    def _text(self, value: FieldValue) -> str:
        if isinstance(value, bool):
            raise TypeError(f"{self.name} takes no bool")
        if self.kind is Kind.DATE and isinstance(value, date):
            return value.strftime("%y%m%d")
        if self.kind is Kind.MONTH_DAY and isinstance(value, date):
            return value.strftime("%m%d")
        if self.kind is Kind.TIME and isinstance(value, time | datetime):
            return value.strftime("%H%M")
        if isinstance(value, int):
            if value < 0:
                raise ValueError(f"{self.name} cannot be negative: {value}")
            return str(value)
        if isinstance(value, str):
            return value
        raise TypeError(f"{self.name} takes no {type(value).__name__}")

    @property
    def pattern(self) -> str | None:
        """A regular expression that only text ``check`` accepts matches, exactly ``width``
        characters; None where only ``check`` can tell (a check digit, a calendar date)."""
        width = self.width
        if self.kind is Kind.CONSTANT:
            return re.escape(self.constant) if len(self.constant) == width else None
        if self.kind is Kind.RESERVED:
            return f" {{{width}}}"
        if self.kind is Kind.ALPHANUMERIC:
            # space is the only blank in NACHA's set
            return f"(?! {{{width}}})[ -~]{{{width}}}" if self.required else f"[ -~]{{{width}}}"
        if self.kind is Kind.NUMERIC:
            return f"(?:[0-9]{{{width}}}| {{{width}}})" if self.optional else f"[0-9]{{{width}}}"
        return None

    def check(self, text: str) -> tuple[Rule, str] | None:
        """The rule the field's text breaks, with a message, or None."""
        blank = text.strip() == ""
        if self.kind is Kind.CONSTANT:
            return None if text == self.constant else (
                Rule.INVALID_CONSTANT, f"must be {self.constant!r}")
        if self.kind is Kind.RESERVED:
            return None if blank else (Rule.FIELD_NOT_BLANK, "reserved: must be blank")
        if self.kind is Kind.ALPHANUMERIC:
            if not set(text) <= ALPHANUMERIC:
                return Rule.FIELD_NOT_ALPHANUMERIC, "outside NACHA's character set"
            return (Rule.FIELD_REQUIRED, "must not be blank") if blank and self.required else None
        if blank and self.optional:
            return None
        if self.kind is Kind.ROUTING:
            digits = text[1:] if text[:1] == " " else text
            if len(digits) != 9 or not set(digits) <= DIGITS:
                return Rule.FIELD_NOT_NUMERIC, "must be a 9-digit routing number"
            if check_digit(digits[:8]) != int(digits[8]):
                return Rule.ROUTING_CHECK_DIGIT, f"check digit should be {check_digit(digits[:8])}"
            return None
        if len(text) != self.width or not set(text) <= DIGITS:
            return Rule.FIELD_NOT_NUMERIC, "must be digits"
        return _check_calendar(self.kind, text)


def _check_calendar(kind: Kind, text: str) -> tuple[Rule, str] | None:
    formats = {Kind.DATE: "%y%m%d", Kind.MONTH_DAY: "%m%d", Kind.TIME: "%H%M"}
    if kind is Kind.JULIAN:
        return None if 1 <= int(text) <= 366 else (Rule.INVALID_DATE, "not a day of the year")
    if kind not in formats:
        return None
    try:
        # a leap year, so that 0229 is a valid month and day
        datetime.strptime(("2000" + text) if kind is Kind.MONTH_DAY else text,
                          ("%Y" + formats[kind]) if kind is Kind.MONTH_DAY else formats[kind])
    except ValueError:
        if kind is Kind.TIME:
            return Rule.INVALID_TIME, "not a time HHMM"
        return Rule.INVALID_DATE, "not a calendar date"
    return None


ROUTING_WEIGHTS = (3, 7, 1) * 3


def _weighted_sums(weights: tuple[int, ...]) -> dict[str, int]:
    """The weighted digit sum, modulo 10, of every 4-digit string, built from two digit pairs."""
    def pairs(left: int, right: int) -> dict[str, int]:
        return {f"{a}{b}": left * a + right * b for a in range(10) for b in range(10)}
    first, second = pairs(*weights[:2]), pairs(*weights[2:])
    return {x + y: (s + t) % 10 for x, s in first.items() for y, t in second.items()}


# a file checks one routing number per entry: two lookups of its halves instead of 8 products
_HEAD_SUMS, _TAIL_SUMS = _weighted_sums(ROUTING_WEIGHTS[:4]), _weighted_sums(ROUTING_WEIGHTS[4:8])


def check_digit(routing8: str) -> int:
    """The ABA check digit of an 8-digit routing prefix: weights 3, 7, 1, modulo 10."""
    try:
        total = _HEAD_SUMS[routing8[:4]] + _TAIL_SUMS[routing8[4:]]
    except KeyError:
        # not 8 ASCII digits: int() says whether they are digits at all
        total = sum(map(mul, map(int, routing8), ROUTING_WEIGHTS))
    return (10 - total % 10) % 10
