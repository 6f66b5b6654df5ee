"""Decoding and encoding: byte round trips over the corpus, and what is not a message."""

from __future__ import annotations

import pytest

from iso8583_spec import EncodeFailedError, Message, Undecodable, decode, encode, response

from .corpus import PANS, VARIANTS, VISA, corpus

CASES = [(variant, name) for variant in VARIANTS for name in corpus(variant)]


@pytest.mark.parametrize(("variant", "name"), CASES)
def test_a_message_round_trips(variant: str, name: str) -> None:
    message = corpus(variant)[name]
    payload = encode(message, variant)
    decoded = decode(payload, variant)
    assert decoded == message
    assert isinstance(decoded, Message)
    assert encode(decoded, variant) == payload


@pytest.mark.parametrize(("variant", "name"), CASES)
def test_its_response_round_trips(variant: str, name: str) -> None:
    answer = response(corpus(variant)[name], "00", "123456")
    payload = encode(answer, variant)
    assert decode(payload, variant) == answer
    assert encode(answer, variant) == payload


@pytest.mark.parametrize("variant", VARIANTS)
def test_decoded_fields_hold_no_bitmap(variant: str) -> None:
    decoded = decode(encode(corpus(variant)["sign_off"], variant), variant)
    assert isinstance(decoded, Message)
    assert set(decoded.fields) == {"7", "11", "32", "70", "128"}


def test_binary_numeric_values_come_back_without_their_pad() -> None:
    message = corpus("binary")["authorization_by_track_2"]
    decoded = decode(encode(message, "binary"), "binary")
    assert isinstance(decoded, Message)
    assert decoded.fields["22"] == "901"
    assert decoded.fields["35"] == message.fields["35"]
    assert len(decoded.fields["35"]) % 2 == 1


@pytest.mark.parametrize("variant", VARIANTS)
def test_a_message_cut_short_is_undecodable_with_what_was_read(variant: str) -> None:
    payload = encode(corpus(variant)["authorization"], variant)
    # cut inside field 41, which comes after the STAN (11) and the RRN (37)
    result = decode(payload[:-60], variant)
    assert isinstance(result, Undecodable)
    assert (result.mti, result.stan, result.rrn) == ("0100", "000123", "406009123456")
    assert "field 4" in result.reason


@pytest.mark.parametrize("variant", VARIANTS)
def test_a_message_cut_in_its_bitmap_keeps_only_its_mti(variant: str) -> None:
    payload = encode(corpus(variant)["reversal"], variant)
    result = decode(payload[:6], variant)
    assert isinstance(result, Undecodable)
    assert result == Undecodable(reason=result.reason, mti="0400")
    assert "field p" in result.reason


@pytest.mark.parametrize("variant", VARIANTS)
def test_trailing_bytes_make_it_undecodable(variant: str) -> None:
    payload = encode(corpus(variant)["echo"], variant)
    result = decode(payload + b"0", variant)
    assert isinstance(result, Undecodable)
    assert "Extra data" in result.reason
    assert result.stan == "000001"


@pytest.mark.parametrize("variant", VARIANTS)
def test_trailing_bytes_after_the_rrn_keep_it(variant: str) -> None:
    payload = encode(Message("0400", {"11": "000042", "37": "406009123456"}), variant)
    result = decode(payload + b"0", variant)
    assert result == Undecodable(reason=result.reason, mti="0400",  # type: ignore[union-attr]
                                 stan="000042", rrn="406009123456")


def test_an_unreadable_mti_is_none() -> None:
    for payload, variant in [(b"", "ascii"), (b"01", "ascii"), (b"AB00" + b"0" * 16, "ascii"),
                             (b"\xff\xff" + bytes(8), "binary"), (b"\x01", "binary")]:
        result = decode(payload, variant)
        assert isinstance(result, Undecodable)
        assert result.mti is None


@pytest.mark.parametrize("variant", VARIANTS)
def test_a_field_outside_the_variant_is_undecodable(variant: str) -> None:
    # field 5 (settlement amount) is in the bitmap but not in the variants
    bitmap = "0800000000000000"
    payload = (b"0100" + bitmap.encode() + b"000000001000" if variant == "ascii"
               else bytes.fromhex("0100" + bitmap + "000000001000"))
    result = decode(payload, variant)
    assert result == Undecodable(reason=f"field 5 is not in the {variant} variant", mti="0100")


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_stan_and_rrn_before_an_unknown_field_are_read(variant: str) -> None:
    known = encode(Message("0100", {"11": "000042", "37": "406009123456"}), variant)
    # set the bit of field 60 (private use, not in the variants) and append its bytes
    if variant == "ascii":
        bitmap = int(known[4:20], 16) | 1 << (64 - 60)
        payload = known[:4] + f"{bitmap:016X}".encode() + known[20:] + b"003ABC"
    else:
        bitmap = int.from_bytes(known[2:10], "big") | 1 << (64 - 60)
        payload = known[:2] + bitmap.to_bytes(8, "big") + known[10:] + b"\x00\x03ABC"
    assert decode(payload, variant) == Undecodable(
        reason=f"field 60 is not in the {variant} variant", mti="0100", stan="000042",
        rrn="406009123456")


def test_an_undecodable_reason_never_quotes_a_pan() -> None:
    # a PAN in a field that allows no such length: pyiso8583 fails on it
    payload = b"0100" b"4000000000000000" b"20" + (VISA + "0000").encode()
    result = decode(payload, "ascii")
    assert isinstance(result, Undecodable)
    assert VISA not in result.reason and "larger than maximum" in result.reason


def test_encoding_refuses_what_the_variant_cannot_carry() -> None:
    with pytest.raises(EncodeFailedError, match="field 5: not a field of the ascii variant"):
        encode(Message("0100", {"5": "000000000100"}), "ascii")
    with pytest.raises(EncodeFailedError, match="field p: not a field"):
        encode(Message("0100", {"p": "0" * 16}), "ascii")
    with pytest.raises(EncodeFailedError, match="field t: an MTI is four digits"):
        encode(Message("01A0", {"11": "000001"}), "binary")
    with pytest.raises(EncodeFailedError, match="field 4: Field data is 11 bytes"):
        encode(Message("0100", {"4": "00000000100"}), "ascii")


@pytest.mark.parametrize("variant", VARIANTS)
def test_an_encoding_error_never_quotes_a_pan(variant: str) -> None:
    for pan in PANS:
        with pytest.raises(EncodeFailedError) as raised:
            encode(Message("0100", {"2": pan + "12345"}), variant)
        assert raised.value.field == "2"
        assert pan not in str(raised.value)


def test_a_message_is_frozen_and_its_repr_masks_card_data() -> None:
    fields = {"2": VISA, "35": VISA + "=2812101", "11": "000001"}
    message = Message("0100", fields)
    fields["11"] = "999999"
    assert message.fields["11"] == "000001"
    with pytest.raises(TypeError):
        message.fields["11"] = "1"  # type: ignore[index]
    assert VISA not in repr(message) and "1111" in repr(message)
    assert hash(message) == hash(Message("0100", dict(message.fields)))
