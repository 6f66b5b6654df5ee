"""The rules a decoded message must keep: its MTI's fields, and each field's content.

Problems are values; their texts name the field and the rule and quote no value that could
hold card data, so they are safe to log and to return.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from iso8583_spec import codes
from iso8583_spec.currencies import currency
from iso8583_spec.elements import (
    digits,
    original_data,
    replacement_amounts,
    valid_expiry,
    valid_month_day,
    valid_time,
    valid_transmission,
)
from iso8583_spec.fields import CARD_DATA, FIELDS, PAN, TRACK_2, Field, Format, Length
from iso8583_spec.layouts import LAYOUTS, NETWORK_CODES
from iso8583_spec.message import Message

MTI_FIELD = 0   # what a problem with the MTI itself names as its field
_PAN_LENGTHS = range(12, 20)
_TRACK_SEPARATORS = "=D"   # "=" in ASCII, the nibble D in BCD


class Rule(StrEnum):
    """The stable code of each rule a message can break (docs/iso8583.md lists them)."""

    UNSUPPORTED_MTI = "unsupported_mti"
    MISSING_FIELD = "missing_field"
    UNEXPECTED_FIELD = "unexpected_field"
    CARD_DATA_MISSING = "card_data_missing"
    BAD_LENGTH = "bad_length"
    BAD_CHARACTERS = "bad_characters"
    PAN_LENGTH = "pan_length"
    PAN_CHECK_DIGIT = "pan_check_digit"
    TRACK_2_FORMAT = "track_2_format"
    INVALID_DATE_TIME = "invalid_date_time"
    INVALID_TIME = "invalid_time"
    INVALID_DATE = "invalid_date"
    INVALID_EXPIRY = "invalid_expiry"
    ZERO_AMOUNT = "zero_amount"
    UNKNOWN_CURRENCY = "unknown_currency"
    ORIGINAL_DATA_FORMAT = "original_data_format"
    REPLACEMENT_AMOUNTS_FORMAT = "replacement_amounts_format"
    REPLACEMENT_EXCEEDS_AMOUNT = "replacement_exceeds_amount"
    UNKNOWN_NETWORK_CODE = "unknown_network_code"


# The response code a problem calls for; a rule not named here is a format error.
_RESPONSE_CODES = {
    Rule.PAN_LENGTH: codes.INVALID_CARD_NUMBER,
    Rule.PAN_CHECK_DIGIT: codes.INVALID_CARD_NUMBER,
    Rule.ZERO_AMOUNT: codes.INVALID_AMOUNT,
    Rule.REPLACEMENT_EXCEEDS_AMOUNT: codes.INVALID_AMOUNT,
}


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """One broken rule: ``field`` is the field number (0 for the MTI), ``text`` says what."""

    field: int
    rule: Rule
    text: str

    @property
    def response_code(self) -> str:
        return _RESPONSE_CODES.get(self.rule, codes.FORMAT_ERROR)

    def __str__(self) -> str:
        return f"field {self.field}: {self.rule}: {self.text}"


def problems(message: Message) -> list[FieldProblem]:
    """Every rule ``message`` breaks, by field number; empty when it may be processed."""
    layout = LAYOUTS.get(message.mti)
    if layout is None:
        return [FieldProblem(MTI_FIELD, Rule.UNSUPPORTED_MTI,
                             f"MTI {message.mti[:4]!r} is not handled")]
    present = {number for number in map(_number, message.fields) if number is not None}
    found: list[FieldProblem] = [
        FieldProblem(number, Rule.MISSING_FIELD, f"{_name(number)} is mandatory for this MTI")
        for number in sorted(layout.mandatory - present)]
    found += [FieldProblem(number, Rule.UNEXPECTED_FIELD, "not a field of this MTI")
              for number in sorted(present - layout.allowed)]
    found += [FieldProblem(0, Rule.UNEXPECTED_FIELD, "not a field number")
              for key in message.fields if _number(key) is None]
    if layout.card_data and not present & CARD_DATA:
        found.append(FieldProblem(PAN, Rule.CARD_DATA_MISSING,
                                  "the PAN (2) or track 2 (35) is mandatory for this MTI"))
    for number in sorted(present & layout.allowed):
        found += _field_problems(number, message.fields[str(number)])
    amount = message.get(4)
    if layout.nonzero_amount and amount is not None and digits(amount) and int(amount) == 0:
        found.append(FieldProblem(4, Rule.ZERO_AMOUNT, "the amount may not be zero"))
    found += _replacement_within_amount(message)
    return sorted(found, key=lambda problem: problem.field)


def response_code_for(found: Sequence[FieldProblem]) -> str:
    """The response code for a message with these problems (at least one): a format error when
    any is one, else the first problem's own code (invalid amount, invalid card number)."""
    if not found:
        raise ValueError("a message without problems has no problem response code")
    answers = [problem.response_code for problem in found]
    return codes.FORMAT_ERROR if codes.FORMAT_ERROR in answers else answers[0]


def _number(key: str) -> int | None:
    # "11" is field 11; "011", "p" or "" name no field.
    return int(key) if digits(key) and str(int(key)) == key else None


def _name(number: int) -> str:
    field = FIELDS.get(number)
    return f"field {number} ({field.name})" if field else f"field {number}"


def _field_problems(number: int, value: str) -> list[FieldProblem]:
    field = FIELDS[number]
    shape = _shape_problem(field, value)
    if shape is not None:
        return [FieldProblem(number, *shape)]
    check = _CONTENT_CHECKS.get(number)
    problem = check(value) if check else None
    return [FieldProblem(number, *problem)] if problem else []


def _shape_problem(field: Field, value: str) -> tuple[Rule, str] | None:
    # The wire already bounds a decoded field; a message built in code may still be wrong.
    size = field.size * 2 if field.format is Format.BINARY else field.size
    if field.length is Length.FIXED and len(value) != size:
        return Rule.BAD_LENGTH, f"is {len(value)} characters, expected {size}"
    if len(value) > size:
        return Rule.BAD_LENGTH, f"is {len(value)} characters, at most {size}"
    if not _ALLOWED[field.format](value):
        return Rule.BAD_CHARACTERS, f"holds characters outside {field.format.value}"
    return None


def _text(value: str) -> bool:
    return all(" " <= char <= "~" for char in value)


_ALLOWED: dict[Format, Callable[[str], bool]] = {
    Format.NUMERIC: lambda value: value == "" or digits(value),
    Format.TRACK: lambda value: all(char in "0123456789" + _TRACK_SEPARATORS for char in value),
    Format.ALPHA_NUMERIC: lambda value: value == "" or (value.isascii() and value.isalnum()),
    Format.TEXT: _text,
    Format.BINARY: lambda value: all(char in "0123456789ABCDEF" for char in value),
}


def luhn_valid(number: str) -> bool:
    """The card number's last digit is its Luhn check digit."""
    total = 0
    for position, char in enumerate(reversed(number)):
        digit = int(char) * (2 if position % 2 else 1)
        total += digit - 9 if digit > 9 else digit
    return total % 10 == 0


def _pan(value: str) -> tuple[Rule, str] | None:
    if len(value) not in _PAN_LENGTHS:
        return Rule.PAN_LENGTH, f"a PAN is 12 to 19 digits, this one {len(value)}"
    if not luhn_valid(value):
        return Rule.PAN_CHECK_DIGIT, "the PAN fails its check digit"
    return None


def _track_2(value: str) -> tuple[Rule, str] | None:
    separators = [index for index, char in enumerate(value) if char in _TRACK_SEPARATORS]
    if len(separators) != 1:
        return Rule.TRACK_2_FORMAT, "track 2 needs one separator after the PAN"
    pan = value[:separators[0]]
    if len(pan) not in _PAN_LENGTHS:
        return Rule.TRACK_2_FORMAT, f"the PAN in track 2 is {len(pan)} digits, not 12 to 19"
    # YYMM expiry and a 3-digit service code follow the separator.
    if len(value) - separators[0] - 1 < 7:
        return Rule.TRACK_2_FORMAT, "track 2 needs an expiry and a service code"
    return _pan(pan)


def _when(check: Callable[[str], bool], rule: Rule, text: str
          ) -> Callable[[str], tuple[Rule, str] | None]:
    return lambda value: None if check(value) else (rule, text)


def _currency(value: str) -> tuple[Rule, str] | None:
    if currency(value) is None:
        return Rule.UNKNOWN_CURRENCY, f"currency {value!r} is not a known ISO 4217 code"
    return None


def _network_code(value: str) -> tuple[Rule, str] | None:
    if value not in NETWORK_CODES:
        return (Rule.UNKNOWN_NETWORK_CODE,
                f"code {value!r} is none of {', '.join(sorted(NETWORK_CODES))}")
    return None


_CONTENT_CHECKS: dict[int, Callable[[str], tuple[Rule, str] | None]] = {
    PAN: _pan,
    7: _when(valid_transmission, Rule.INVALID_DATE_TIME, "not a valid MMDDhhmmss"),
    12: _when(valid_time, Rule.INVALID_TIME, "not a valid hhmmss"),
    13: _when(valid_month_day, Rule.INVALID_DATE, "not a valid MMDD"),
    14: _when(valid_expiry, Rule.INVALID_EXPIRY, "not a valid YYMM"),
    TRACK_2: _track_2,
    49: _currency,
    70: _network_code,
    90: _when(lambda value: original_data(value) is not None, Rule.ORIGINAL_DATA_FORMAT,
              "original data elements are an MTI (request or advice), STAN, valid MMDDhhmmss, "
              "acquirer and forwarding institution ids: 42 digits"),
    95: _when(lambda value: replacement_amounts(value) is not None,
              Rule.REPLACEMENT_AMOUNTS_FORMAT,
              "replacement amounts are two n12 amounts and two signed n8 fees"),
}


def _replacement_within_amount(message: Message) -> list[FieldProblem]:
    amount, replacement = message.get(4), message.get(95)
    if amount is None or replacement is None or not digits(amount):
        return []
    amounts = replacement_amounts(replacement)
    if amounts is None or amounts.transaction <= int(amount):
        return []
    return [FieldProblem(95, Rule.REPLACEMENT_EXCEEDS_AMOUNT,
                         "the replacement amount exceeds the transaction amount (4)")]
