"""The two variants: which fields they define, and their bytes for known messages."""

from __future__ import annotations

import pytest

from iso8583_spec import FIELDS, Format, Message, decode, encode, spec

from .corpus import AMEX

REQUIRED_FIELDS = {2, 3, 4, 7, 11, 12, 13, 14, 18, 22, 25, 32, 33, 35, 37, 38, 39, 41, 42, 43,
                   49, 54, 70, 90, 95, 102, 128}
ECHO = Message("0800", {"7": "0301093000", "11": "000123", "70": "301"})


@pytest.mark.parametrize("name", ["ascii", "binary"])
def test_each_variant_defines_the_fields_and_no_header(name: str) -> None:
    variant = spec(name)
    assert {int(key) for key in variant if key.isdigit() and key != "1"} == REQUIRED_FIELDS
    assert {"t", "p", "1"} <= set(variant)
    assert variant["h"]["max_len"] == 0


def test_an_unknown_variant_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown ISO 8583 variant 'ebcdic'"):
        spec("ebcdic")
    with pytest.raises(ValueError, match="unknown ISO 8583 variant"):
        decode(b"0800", "ebcdic")


def test_the_ascii_variant_is_all_text() -> None:
    # MTI, primary bitmap (1, 7, 11), secondary bitmap (70), then 7, 11 and 70 as digits
    assert encode(ECHO, "ascii") == (b"0800" b"8220000000000000" b"0400000000000000"
                                     b"0301093000" b"000123" b"301")


def test_the_binary_variant_packs_digits_and_bitmaps() -> None:
    # BCD MTI, raw bitmaps, BCD fields; 70's three digits take a leading 0 nibble
    assert encode(ECHO, "binary") == bytes.fromhex(
        "0800" "8220000000000000" "0400000000000000" "0301093000" "000123" "0301")


def test_variable_numeric_fields_have_their_length_in_digits() -> None:
    message = Message("0100", {"2": AMEX})
    # ASCII: "15" then the digits; binary: 0x15 then 8 bytes, the odd digit count padded left
    assert encode(message, "ascii") == b"0100" b"4000000000000000" b"15" + AMEX.encode()
    assert encode(message, "binary") == bytes.fromhex("0100" "4000000000000000" "15"
                                                      "0378282246310005")


def test_text_fields_stay_ascii_in_the_binary_variant() -> None:
    message = Message("0110", {"37": "406009123456", "39": "00", "54": "1001840C000000000500"})
    assert encode(message, "binary") == (
        bytes.fromhex("0110" "000000000A000400") + b"406009123456" b"00"
        + bytes.fromhex("0020") + b"1001840C000000000500")
    assert encode(message, "ascii").endswith(b"406009123456" b"00" b"020"
                                             b"1001840C000000000500")


def test_the_mac_is_hex_text_in_ascii_and_raw_bytes_in_binary() -> None:
    message = Message("0800", {"128": "0123456789ABCDEF"})
    assert encode(message, "ascii").endswith(b"0123456789ABCDEF")
    assert encode(message, "binary").endswith(bytes.fromhex("0123456789ABCDEF"))
    assert len(encode(message, "binary")) == 2 + 16 + 8


def test_the_field_table_uses_the_1987_formats() -> None:
    assert FIELDS[4].format is Format.NUMERIC and FIELDS[4].size == 12
    assert FIELDS[35].format is Format.TRACK and FIELDS[35].size == 37
    assert FIELDS[37].name == "Retrieval reference number"
    assert FIELDS[90].size == 42 and FIELDS[95].format is Format.ALPHA_NUMERIC
