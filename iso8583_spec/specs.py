"""The two wire variants as pyiso8583 specs, built from the one field table.

``ascii``: everything is ASCII text, the bitmaps as 16 hex characters each, the length
prefixes as 2 or 3 digits. ``binary``: the MTI, numeric fields and the length prefixes are BCD
(an odd number of digits takes a leading 0 nibble), the bitmaps are 8 raw bytes each, text
fields stay ASCII. Neither has a message header.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Literal

from iso8583_spec.fields import FIELDS, Field, Format, Length

SpecName = Literal["ascii", "binary"]
Spec = Mapping[str, Mapping[str, Any]]
SPEC_NAMES: tuple[SpecName, ...] = ("ascii", "binary")

_NO_HEADER = {"data_enc": "ascii", "len_enc": "ascii", "len_type": 0, "max_len": 0,
              "desc": "Message header"}


def _ascii_field(field: Field) -> dict[str, Any]:
    # A binary field travels as its hex text here, two characters a byte.
    size = field.size * 2 if field.format is Format.BINARY else field.size
    return {"data_enc": "ascii", "len_enc": "ascii", "len_type": field.length.value,
            "max_len": size, "desc": field.name}


def _binary_field(field: Field) -> dict[str, Any]:
    # A BCD prefix packs two digits a byte: LL takes one byte, LLL two.
    len_type = {Length.FIXED: 0, Length.LLVAR: 1, Length.LLLVAR: 2}[field.length]
    if field.format in {Format.NUMERIC, Format.TRACK}:
        # Counted in digits (nibbles); the track separator is the nibble D.
        return {"data_enc": "b", "len_enc": "bcd", "len_type": len_type,
                "len_count": "nibbles", "left_pad": "0", "max_len": field.size,
                "desc": field.name}
    if field.format is Format.BINARY:
        return {"data_enc": "b", "len_enc": "bcd", "len_type": len_type,
                "max_len": field.size, "desc": field.name}
    return {"data_enc": "ascii", "len_enc": "bcd", "len_type": len_type,
            "max_len": field.size, "desc": field.name}


def _freeze(spec: dict[str, dict[str, Any]]) -> Spec:
    return MappingProxyType({key: MappingProxyType(value) for key, value in spec.items()})


_ASCII = _freeze({
    "h": _NO_HEADER,
    "t": {"data_enc": "ascii", "len_enc": "ascii", "len_type": 0, "max_len": 4,
          "desc": "Message type indicator"},
    "p": {"data_enc": "ascii", "len_enc": "ascii", "len_type": 0, "max_len": 16,
          "desc": "Primary bitmap"},
    "1": {"data_enc": "ascii", "len_enc": "ascii", "len_type": 0, "max_len": 16,
          "desc": "Secondary bitmap"},
    **{str(number): _ascii_field(field) for number, field in FIELDS.items()},
})

_BINARY = _freeze({
    "h": _NO_HEADER,
    "t": {"data_enc": "b", "len_enc": "ascii", "len_type": 0, "max_len": 2,
          "desc": "Message type indicator"},
    "p": {"data_enc": "b", "len_enc": "ascii", "len_type": 0, "max_len": 8,
          "desc": "Primary bitmap"},
    "1": {"data_enc": "b", "len_enc": "ascii", "len_type": 0, "max_len": 8,
          "desc": "Secondary bitmap"},
    **{str(number): _binary_field(field) for number, field in FIELDS.items()},
})

_SPECS: Mapping[str, Spec] = MappingProxyType({"ascii": _ASCII, "binary": _BINARY})


def spec(name: str) -> Spec:
    """The pyiso8583 spec of the variant ``name`` ("ascii" or "binary"), read-only."""
    try:
        return _SPECS[name]
    except KeyError:
        raise ValueError(f"unknown ISO 8583 variant {name!r}: expected one of "
                         f"{', '.join(SPEC_NAMES)}") from None
