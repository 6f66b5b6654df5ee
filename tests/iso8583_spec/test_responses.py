"""Responses: their MTI, what they echo, what they never carry, and format errors."""

from __future__ import annotations

import pytest

from iso8583_spec import (
    RESPONSE_CODES,
    Message,
    Undecodable,
    decode,
    encode,
    format_error_response,
    response,
    response_mti,
)
from iso8583_spec import codes as response_codes

from .corpus import VARIANTS, corpus

MESSAGES = corpus("ascii")
ANSWERS = {"0100": "0110", "0101": "0110", "0120": "0130", "0121": "0130", "0400": "0410",
           "0401": "0410", "0420": "0430", "0421": "0430", "0220": "0230", "0221": "0230",
           "0800": "0810"}


@pytest.mark.parametrize(("request_mti", "answer"), sorted(ANSWERS.items()))
def test_the_response_mti_clears_the_repeat(request_mti: str, answer: str) -> None:
    assert response_mti(request_mti) == answer


@pytest.mark.parametrize("mti", ["0110", "0130", "0102", "01", "ABCD", "0810"])
def test_responses_and_others_get_no_response_mti(mti: str) -> None:
    assert response_mti(mti) is None
    with pytest.raises(ValueError, match="not a request or an advice"):
        response(Message(mti, {}), "00")


def test_an_approval_echoes_the_matching_fields_and_no_card_data() -> None:
    request = MESSAGES["authorization"]
    answer = response(request, "00", "A1B2C3")
    assert answer.mti == "0110"
    assert dict(answer.fields) == {
        **{key: request.fields[key] for key in ("3", "4", "7", "11", "32", "37", "41", "42",
                                                "49")},
        "38": "A1B2C3", "39": "00"}


def test_a_decline_carries_no_approval_code() -> None:
    answer = response(MESSAGES["authorization_by_track_2"], response_codes.INSUFFICIENT_FUNDS)
    assert answer.get(39) == "51" and answer.get(38) is None
    assert answer.get(2) is None and answer.get(35) is None


@pytest.mark.parametrize("name", list(MESSAGES))
def test_no_response_carries_card_data(name: str) -> None:
    answer = response(MESSAGES[name], "05")
    assert not {"2", "35", "14"} & set(answer.fields)
    assert answer.mti == ANSWERS[MESSAGES[name].mti]


def test_a_network_response_echoes_its_code() -> None:
    answer = response(MESSAGES["sign_on"], "00")
    assert answer == Message("0810", {"7": "0301080000", "11": "000002", "32": "123456",
                                      "70": "001", "39": "00"})


def test_only_network_responses_echo_field_70() -> None:
    request = Message("0100", {**MESSAGES["authorization"].fields, "70": "301"})
    assert response(request, "30").get(70) is None


def test_malformed_codes_are_refused() -> None:
    with pytest.raises(ValueError, match="response code"):
        response(MESSAGES["authorization"], "0")
    with pytest.raises(ValueError, match="approval code"):
        response(MESSAGES["authorization"], "00", "A1B2C")
    with pytest.raises(ValueError, match="approval code"):
        response(MESSAGES["authorization"], "00", "A1B2C-")


@pytest.mark.parametrize("variant", VARIANTS)
def test_an_undecodable_request_gets_a_format_error(variant: str) -> None:
    payload = encode(corpus(variant)["authorization_repeat"], variant)
    undecodable = decode(payload[:-60], variant)
    assert isinstance(undecodable, Undecodable)
    assert format_error_response(undecodable) == Message(
        "0110", {"11": "000123", "37": "406009123456", "39": "30"})


def test_a_format_error_echoes_only_what_was_read() -> None:
    assert format_error_response(Undecodable("x", mti="0420")) == Message("0430", {"39": "30"})
    assert format_error_response(Undecodable("x", mti="0800", stan="000001")) == Message(
        "0810", {"11": "000001", "39": "30"})
    assert format_error_response(Undecodable("x")) is None
    assert format_error_response(Undecodable("x", mti="0110")) is None


def test_the_response_codes_have_their_meanings() -> None:
    assert set(RESPONSE_CODES) == {"00", "05", "13", "14", "30", "51", "62", "91", "96"}
    assert RESPONSE_CODES[response_codes.APPROVED] == "Approved"
    assert all(len(code) == 2 and meaning for code, meaning in RESPONSE_CODES.items())
