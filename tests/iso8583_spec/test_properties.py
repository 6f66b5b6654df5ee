"""Properties: decoding never raises, and generated messages round-trip in both variants."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from iso8583_spec import FIELDS, Format, Length, Message, Undecodable, decode, encode, problems
from iso8583_spec.fields import Field

from .corpus import PANS, VARIANTS, corpus

PAYLOADS = [encode(message, variant) for variant in VARIANTS
            for message in corpus(variant).values()]
VARIANT = st.sampled_from(VARIANTS)


def _check(result: Message | Undecodable) -> None:
    assert isinstance(result, Message | Undecodable)
    if isinstance(result, Undecodable):
        assert not any(pan in result.reason for pan in PANS)
        assert re.search(r"[0-9]{6}", result.reason) is None
        assert result.mti is None or (len(result.mti) == 4 and result.mti.isdigit())
    else:
        # whatever decodes can be validated without raising
        problems(result)


@given(st.binary(max_size=400), VARIANT)
def test_random_bytes_never_raise(payload: bytes, variant: str) -> None:
    _check(decode(payload, variant))


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    payload = bytearray(draw(st.sampled_from(PAYLOADS)))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "insert", "delete", "truncate"]))
        index = draw(st.integers(0, max(len(payload) - 1, 0)))
        if kind == "flip" and payload:
            payload[index] ^= draw(st.integers(1, 255))
        elif kind == "insert":
            payload[index:index] = draw(st.binary(min_size=1, max_size=3))
        elif kind == "delete" and payload:
            del payload[index]
        else:
            del payload[index:]
    return bytes(payload)


@settings(max_examples=400)
@given(mutated(), VARIANT)
def test_mutated_messages_never_raise(payload: bytes, variant: str) -> None:
    _check(decode(payload, variant))


_CHARSETS = {
    Format.NUMERIC: "0123456789",
    Format.TRACK: "0123456789",
    Format.ALPHA_NUMERIC: "0123456789ABCXYZabz",
    Format.TEXT: " -./0123456789ABCZaz&*",
    Format.BINARY: "0123456789ABCDEF",
}


def _values(field: Field, variant: str) -> st.SearchStrategy[str]:
    size = field.size * 2 if field.format is Format.BINARY else field.size
    smallest = size if field.length is Length.FIXED else 0
    text = st.text(alphabet=_CHARSETS[field.format], min_size=smallest, max_size=size)
    if field.format is Format.TRACK:
        separator = "=" if variant == "ascii" else "D"
        return st.tuples(st.text("0123456789", min_size=12, max_size=19),
                         st.text("0123456789", max_size=17)).map(
            lambda parts: f"{parts[0]}{separator}{parts[1]}")
    return text


@st.composite
def messages(draw: st.DrawFn, variant: str) -> Message:
    numbers = draw(st.sets(st.sampled_from(sorted(FIELDS)), max_size=12))
    return Message(draw(st.text("0123456789", min_size=4, max_size=4)),
                   {str(number): draw(_values(FIELDS[number], variant)) for number in numbers})


@given(st.data(), VARIANT)
def test_generated_messages_round_trip(data: st.DataObject, variant: str) -> None:
    message = data.draw(messages(variant))
    payload = encode(message, variant)
    assert decode(payload, variant) == message
    assert encode(decode(payload, variant), variant) == payload  # type: ignore[arg-type]
