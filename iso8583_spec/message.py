"""A message as plain values, and what decoding returns when the bytes are not a message."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from iso8583_spec.fields import PAN, TRACK_2
from iso8583_spec.masking import MASK, mask_pan


@dataclass(frozen=True, slots=True, repr=False)
class Message:
    """An MTI and its data elements, keyed by field number as text ("2", "11", ...).

    Values are the decoded strings: digits for numeric fields, text for text fields, upper-case
    hex for binary ones. The bitmaps are not fields: encoding derives them.
    """

    mti: str
    fields: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        # Frozen means frozen: a caller's dict changed later must not change the message.
        object.__setattr__(self, "fields", MappingProxyType(dict(self.fields)))

    def __hash__(self) -> int:
        # A read-only mapping is not hashable itself; equality compares its contents.
        return hash((self.mti, frozenset(self.fields.items())))

    def get(self, number: int) -> str | None:
        """The value of field ``number``, or None when the message does not carry it."""
        return self.fields.get(str(number))

    def __repr__(self) -> str:
        # The repr ends up in logs and tracebacks: card data never appears in it.
        shown = {key: _masked(key, value) for key, value in self.fields.items()}
        return f"Message(mti={self.mti!r}, fields={shown!r})"


def _masked(key: str, value: str) -> str:
    if key == str(PAN):
        return mask_pan(value)
    if key == str(TRACK_2):
        return MASK * len(value)
    return value


@dataclass(frozen=True, slots=True)
class Undecodable:
    """Bytes that are not a message of the variant. ``reason`` is safe to log (no card data);
    ``mti``, ``stan`` (11) and ``rrn`` (37) are what could be read before it went wrong, so
    the sender can still be answered."""

    reason: str
    mti: str | None = None
    stan: str | None = None
    rrn: str | None = None
