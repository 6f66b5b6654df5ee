"""Bytes to a Message and back, through pyiso8583, without ever raising on what arrives."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import iso8583

from iso8583_spec.masking import scrub
from iso8583_spec.message import Message, Undecodable
from iso8583_spec.mti import is_mti
from iso8583_spec.specs import Spec, spec

# pyiso8583's keys that are not data elements: header, MTI, bitmaps.
_STRUCTURE = frozenset({"h", "t", "p", "1"})
STAN, RRN = "11", "37"


class EncodeFailedError(ValueError):
    """A message the variant cannot carry; ``field`` is the field ("t" for the MTI) at fault.

    The text names the field and the rule, never the value, so it is safe to log."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"cannot encode field {field}: {reason}")


class _Unknown(Mapping[str, Mapping[str, Any]]):
    """The variant, plus a stand-in for each field it does not define: a fixed field longer
    than the whole payload. pyiso8583 then fails on that field after decoding the ones before
    it, so a STAN or RRN ahead of the unknown field is still read."""

    def __init__(self, variant: Spec, payload_size: int) -> None:
        self._variant = variant
        self._beyond = {"data_enc": "b", "len_enc": "ascii", "len_type": 0,
                        "max_len": payload_size + 1, "desc": "Not in the variant"}

    def __getitem__(self, key: str) -> Mapping[str, Any]:
        if key in self._variant:
            return self._variant[key]
        if key.isdigit():
            return self._beyond
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(self._variant)

    def __len__(self) -> int:
        return len(self._variant)


def decode(payload: bytes, spec_name: str) -> Message | Undecodable:
    """The message in ``payload`` (one frame's payload, no length prefix) or why it is not one.

    Any bytes give one of the two; only an unknown ``spec_name`` raises (ValueError)."""
    variant = spec(spec_name)
    try:
        decoded, _ = iso8583.decode(bytes(payload), _Unknown(variant, len(payload)))
    except iso8583.DecodeError as error:
        # pyiso8583 leaves what it had read in doc_dec. The field it failed on is not trusted,
        # unless the failure is the bytes left over after it.
        trailing = error.msg == "Extra data after last field"
        read = {key: value for key, value in error.doc_dec.items()
                if key != error.field or trailing}
        if error.field in variant:
            reason = f"field {error.field}: {error.msg} (byte {error.pos})"
        else:
            # Its length, and so where the next field starts, is unknown: decoding stops.
            reason = f"field {error.field} is not in the {spec_name} variant"
        return Undecodable(reason=scrub(reason), mti=_read_mti(read), stan=_read_stan(read),
                           rrn=_read_rrn(read))
    if not is_mti(decoded["t"]):
        # Hex nibbles or letters where the MTI goes: no message type to process or to answer.
        return Undecodable(reason="the MTI is not four digits", stan=_read_stan(decoded),
                           rrn=_read_rrn(decoded))
    return Message(mti=decoded["t"],
                   fields={key: value for key, value in decoded.items()
                           if key not in _STRUCTURE})


def _read_mti(read: Mapping[str, str]) -> str | None:
    mti = read.get("t", "")
    return mti if is_mti(mti) else None


def _read_stan(read: Mapping[str, str]) -> str | None:
    stan = read.get(STAN, "")
    return stan if len(stan) == 6 and stan.isascii() and stan.isdigit() else None


def _read_rrn(read: Mapping[str, str]) -> str | None:
    rrn = read.get(RRN, "")
    return rrn if len(rrn) == 12 and rrn.isascii() and rrn.isalnum() else None


def encode(message: Message, spec_name: str) -> bytes:
    """The payload of ``message`` in the variant (no length prefix); the bitmaps are derived.

    Raises EncodeFailedError for a field the variant lacks or a value it cannot carry."""
    variant = spec(spec_name)
    for key in message.fields:
        if key in _STRUCTURE or key not in variant:
            raise EncodeFailedError(key, f"not a field of the {spec_name} variant")
    if not is_mti(message.mti):
        raise EncodeFailedError("t", "an MTI is four digits")
    try:
        payload, _ = iso8583.encode({"t": message.mti, **message.fields}, variant)
    except iso8583.EncodeError as error:
        raise EncodeFailedError(error.field, scrub(error.msg)) from None
    return bytes(payload)
