"""The data elements both variants carry: 1987 names, formats and length types.

One table drives both specs, so a field cannot be numeric in one variant and text in the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from types import MappingProxyType


class Format(Enum):
    """What a field's characters may be, in the 1987 abbreviations."""

    NUMERIC = "n"          # decimal digits
    TRACK = "z"            # track 2 code set: digits and the field separator
    ALPHA_NUMERIC = "an"   # letters and digits
    TEXT = "ans"           # letters, digits and special characters (printable ASCII)
    BINARY = "b"           # raw bytes, read and written as upper-case hex text


class Length(Enum):
    """How a field's length is known: fixed by the standard, or a 2- or 3-digit prefix."""

    FIXED = 0
    LLVAR = 2
    LLLVAR = 3


@dataclass(frozen=True)
class Field:
    """One data element; ``size`` is the length (fixed) or the maximum (variable).

    Numeric, track and text sizes count characters; a binary size counts bytes.
    """

    number: int
    name: str
    format: Format
    length: Length
    size: int


def _table(*fields: Field) -> MappingProxyType[int, Field]:
    return MappingProxyType({field.number: field for field in fields})


N, Z, AN, ANS, B = (Format.NUMERIC, Format.TRACK, Format.ALPHA_NUMERIC, Format.TEXT,
                    Format.BINARY)
FIXED, LL, LLL = Length.FIXED, Length.LLVAR, Length.LLLVAR

FIELDS = _table(
    Field(2, "Primary account number (PAN)", N, LL, 19),
    Field(3, "Processing code", N, FIXED, 6),
    Field(4, "Amount, transaction", N, FIXED, 12),
    Field(7, "Transmission date and time", N, FIXED, 10),
    Field(11, "Systems trace audit number", N, FIXED, 6),
    Field(12, "Time, local transaction", N, FIXED, 6),
    Field(13, "Date, local transaction", N, FIXED, 4),
    Field(14, "Date, expiration", N, FIXED, 4),
    Field(18, "Merchant type", N, FIXED, 4),
    Field(22, "Point of service entry mode", N, FIXED, 3),
    Field(25, "Point of service condition code", N, FIXED, 2),
    Field(32, "Acquiring institution identification code", N, LL, 11),
    Field(33, "Forwarding institution identification code", N, LL, 11),
    Field(35, "Track 2 data", Z, LL, 37),
    Field(37, "Retrieval reference number", AN, FIXED, 12),
    Field(38, "Authorization identification response", AN, FIXED, 6),
    Field(39, "Response code", AN, FIXED, 2),
    Field(41, "Card acceptor terminal identification", ANS, FIXED, 8),
    Field(42, "Card acceptor identification code", ANS, FIXED, 15),
    Field(43, "Card acceptor name/location", ANS, FIXED, 40),
    Field(49, "Currency code, transaction", N, FIXED, 3),
    Field(54, "Additional amounts", AN, LLL, 120),
    Field(70, "Network management information code", N, FIXED, 3),
    Field(90, "Original data elements", N, FIXED, 42),
    Field(95, "Replacement amounts", AN, FIXED, 42),
    Field(102, "Account identification 1", ANS, LL, 28),
    Field(128, "Message authentication code (MAC)", B, FIXED, 8),
)

# Fields that hold card data: never echoed, never logged in clear.
PAN, TRACK_2 = 2, 35
CARD_DATA = frozenset({PAN, TRACK_2})
