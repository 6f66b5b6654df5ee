"""Building structured values from fuzzer bytes, so inputs get past framing and JSON syntax.

The structured variants of the targets turn the fuzzer's bytes into records and documents
with ``atheris.FuzzedDataProvider``: most choices pick among values the ledger knows (its
account ids, tran codes, amounts), the rest are fuzzed text, which may hold any code point,
lone surrogates included, because JSON text (``"\\ud800"``) can carry those.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, TypeVar

import atheris

__all__ = ["Fuzzed", "json_text"]

T = TypeVar("T")

# Text the ledger treats specially, offered alongside fuzzed text.
SPECIAL_TEXT = ("", " ", "\x00", "\ud800", "\udfff", "\U0010ffff", "\u202e", "a" * 300,
                "NaN", "Infinity", "-0", "1e999999", "0x10", "null", "true", "'", '"', "\\",
                "\n", "DEBIT", "CREDIT", "SETTLED", "PENDING", "ENCUMBRANCE")
SPECIAL_NUMBERS = ("0", "0.00", "1", "-1", "9.53", "4.28", "100.00", "0.001", "1e30", "1E+2",
                   "99999999999999999999999999.99", "-0", "NaN", "Infinity", "sNaN", " 5.00",
                   "5,00", "1_000", "\u0661\u0662", "0.1e-9999")
SPECIAL_DATES = ("2022-09-21", "2026-11-22", "2024-02-29", "2023-02-29", "0000-01-01",
                 "9999-12-31", "2022-9-21", "2026-11-22T10:00:00Z", "2026-11-22T10:00:00+14:00",
                 "2026-11-22T25:00:00Z", "1970-01-01T00:00:00Z")


class Fuzzed:
    """A FuzzedDataProvider with the choices the targets make."""

    def __init__(self, data: bytes) -> None:
        self.fdp = atheris.FuzzedDataProvider(data)

    def remaining(self) -> int:
        """How many bytes are left."""
        return int(self.fdp.remaining_bytes())

    def flag(self) -> bool:
        """A fuzzed boolean."""
        return bool(self.fdp.ConsumeBool())

    def integer(self, low: int, high: int) -> int:
        """A fuzzed integer in [low, high]."""
        return int(self.fdp.ConsumeIntInRange(low, high))

    def pick(self, values: Sequence[T]) -> T:
        """One of ``values``."""
        return values[self.integer(0, len(values) - 1)]

    def text(self, max_length: int = 40) -> str:
        """Fuzzed text of any code points, lone surrogates included."""
        return str(self.fdp.ConsumeUnicode(self.integer(0, max_length)))

    def one_of(self, known: Sequence[str], max_length: int = 40) -> str:
        """Mostly one of ``known``, sometimes special or fuzzed text."""
        choice = self.integer(0, 7)
        if choice <= 4 and known:
            return self.pick(known)
        if choice == 5:
            return self.pick(SPECIAL_TEXT)
        return self.text(max_length)

    def maybe(self, known: Sequence[str], max_length: int = 40) -> str | None:
        """None, or a value as ``one_of`` makes it."""
        return None if self.integer(0, 4) == 0 else self.one_of(known, max_length)

    def amount(self) -> Any:
        """An amount as a client might send it: text, an integer, a Decimal, or junk."""
        choice = self.integer(0, 9)
        if choice <= 4:
            return self.pick(SPECIAL_NUMBERS)
        if choice == 5:
            return self.integer(-(10**20), 10**20)
        if choice == 6:
            return Decimal(self.integer(-(10**12), 10**12)).scaleb(-self.integer(0, 6))
        if choice == 7:
            return f"{self.integer(0, 10**9)}.{self.integer(0, 999):0{self.integer(0, 4)}d}"
        return self.json_value(2)

    def json_value(self, depth: int = 3) -> Any:
        """Any JSON value, nested at most ``depth`` deep."""
        choice = self.integer(0, 9 if depth > 0 else 6)
        if choice == 0:
            return None
        if choice == 1:
            return self.flag()
        if choice == 2:
            return self.integer(-(2**70), 2**70)
        if choice == 3:
            return Decimal(self.integer(-(10**9), 10**9)).scaleb(-self.integer(0, 30))
        if choice == 4:
            return self.pick(SPECIAL_NUMBERS)
        if choice == 5:
            return self.pick(SPECIAL_DATES)
        if choice == 6:
            return self.text()
        if choice in (7, 8):
            return {self.text(12): self.json_value(depth - 1)
                    for _ in range(self.integer(0, 4))}
        return [self.json_value(depth - 1) for _ in range(self.integer(0, 4))]


def json_text(value: Any) -> str:
    """JSON text of ``value`` as a client writes it: Decimals as numbers, non-ASCII escaped
    (so a lone surrogate travels as ``\\ud800``, which any JSON reader accepts)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(str(key))}:{json_text(item)}"
                              for key, item in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(json_text(item) for item in value) + "]"
    raise TypeError(f"{type(value).__name__} is not JSON")
