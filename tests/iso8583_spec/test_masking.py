"""Masking: the PAN, hex dumps of whole frames, and the texts the package produces."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from iso8583_spec import Undecodable, decode, encode, frame, mask_pan, masked_hex, response

from .corpus import PANS, VARIANTS, corpus


def _traces(pan: str) -> list[str]:
    """How a PAN can show in a hex dump: as ASCII digits, as BCD, left-padded or not."""
    return [pan, pan.encode().hex(), pan[1:], pan[:-1], pan.encode().hex()[2:]]


def test_mask_pan_keeps_the_last_four() -> None:
    assert mask_pan("4111111111111111") == "************1111"
    assert mask_pan("378282246310005") == "***********0005"
    assert mask_pan("1234") == "****"
    assert mask_pan("") == ""


def test_masked_hex_masks_digit_runs_and_keeps_the_rest() -> None:
    # letters A-I and P-Y are bytes of decimal nibbles as well; J-O and Z are not
    assert masked_hex(b"ZJK") == "5a4a4b"
    assert masked_hex(b"ABCDEF") == "*" * 12
    # 5 BCD bytes are not enough to be a card number, 6 are
    assert masked_hex(bytes.fromhex("0102030405") + b"Z") == "01020304055a"
    assert masked_hex(bytes.fromhex("010203040506") + b"Z") == "*" * 12 + "5a"
    # ASCII digits are bytes of decimal nibbles too
    assert masked_hex(b"Z123456J") == "5a" + "*" * 12 + "4a"
    assert masked_hex(b"Z12345J") == "5a" + b"12345".hex() + "4a"


def test_masked_hex_covers_track_2_separators() -> None:
    assert masked_hex(b"Z4111111111111111=2812101J") == "5a" + "*" * 48 + "4a"
    assert masked_hex(bytes.fromhex("4111111111111111D2812101")) == "*" * 24


@pytest.mark.parametrize("variant", VARIANTS)
def test_no_pan_survives_in_the_masked_hex_of_any_corpus_frame(variant: str) -> None:
    for message in corpus(variant).values():
        for payload in (encode(message, variant), frame(encode(message, variant))):
            dump = masked_hex(payload)
            assert len(dump) == 2 * len(payload)
            for pan in PANS:
                assert not any(trace in dump for trace in _traces(pan))


@pytest.mark.parametrize("variant", VARIANTS)
def test_no_pan_in_any_reason_of_a_cut_corpus_frame(variant: str) -> None:
    for message in corpus(variant).values():
        payload = encode(message, variant)
        for end in range(len(payload)):
            result = decode(payload[:end], variant)
            assert isinstance(result, Undecodable)
            for pan in PANS:
                assert pan not in result.reason and pan[:12] not in result.reason


@pytest.mark.parametrize("variant", VARIANTS)
def test_no_pan_in_any_repr_of_a_corpus_message_or_its_response(variant: str) -> None:
    for message in corpus(variant).values():
        for shown in (repr(message), repr(response(message, "00"))):
            assert not any(pan in shown or pan[:12] in shown for pan in PANS)


@given(st.binary(max_size=200))
def test_masked_hex_never_shows_a_run_of_six_digit_bytes(payload: bytes) -> None:
    dump = masked_hex(payload)
    shown = [dump[index:index + 2] for index in range(0, len(dump), 2)]
    run = 0
    for pair in shown:
        run = run + 1 if all(char in "0123456789d" for char in pair) else 0
        assert run < 6
