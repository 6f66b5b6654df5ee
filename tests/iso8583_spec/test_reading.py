"""Typed reading: amounts as Decimal, currencies, card numbers, idempotency and original keys."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from iso8583_spec import (
    CURRENCIES,
    Message,
    amount,
    card_number,
    currency_alpha,
    message_key,
    original_key,
    replacement_amount,
    transaction_currency,
    transmission_time,
)

from .corpus import AMEX, MASTERCARD, VARIANTS, VISA, corpus

MESSAGES = corpus("ascii")


def test_the_amount_is_exact_in_major_units() -> None:
    assert amount(MESSAGES["authorization"]) == Decimal("123.45")
    assert str(amount(MESSAGES["authorization"])) == "123.45"
    assert amount(MESSAGES["authorization_yen"]) == Decimal("1500")
    assert str(amount(MESSAGES["authorization_yen"])) == "1500"
    assert str(amount(Message("0100", {"4": "000000000000", "49": "978"}))) == "0.00"
    big = amount(Message("0100", {"4": "999999999999", "49": "048"}))
    assert isinstance(big, Decimal) and str(big) == "999999999.999"


def test_the_currency_table_has_the_usual_exponents() -> None:
    assert {code: (c.alpha, c.exponent) for code, c in CURRENCIES.items()
            if code in {"840", "978", "826", "392", "124"}} == {
        "840": ("USD", 2), "978": ("EUR", 2), "826": ("GBP", 2), "392": ("JPY", 0),
        "124": ("CAD", 2)}
    assert currency_alpha(MESSAGES["completion"]) == "EUR"
    assert transaction_currency(MESSAGES["authorization_yen"]).exponent == 0


def test_reading_a_missing_or_garbled_field_raises_without_its_value() -> None:
    with pytest.raises(ValueError, match="no field 4"):
        amount(Message("0100", {"49": "840"}))
    with pytest.raises(ValueError, match="field 4 is not an amount"):
        amount(Message("0100", {"4": "00000000012A", "49": "840"}))
    with pytest.raises(ValueError, match="field 49 is not a known currency"):
        currency_alpha(Message("0100", {"49": "999"}))
    with pytest.raises(ValueError, match="field 95 is not replacement amounts"):
        replacement_amount(Message("0400", {"95": "X" * 42, "49": "840"}))


def test_the_replacement_amount_comes_from_field_95() -> None:
    assert replacement_amount(MESSAGES["partial_reversal"]) == Decimal("23.45")


def test_the_card_number_comes_from_field_2_or_track_2() -> None:
    assert card_number(MESSAGES["authorization"]) == VISA
    for variant in VARIANTS:
        assert card_number(corpus(variant)["authorization_by_track_2"]) == AMEX
    assert card_number(MESSAGES["completion"]) == MASTERCARD
    with pytest.raises(ValueError, match="no field 35"):
        card_number(MESSAGES["echo"])
    with pytest.raises(ValueError, match="field 35 has no separator"):
        card_number(Message("0100", {"35": AMEX + "2812"}))


def test_a_repeat_shares_its_original_key() -> None:
    assert message_key(MESSAGES["authorization"]) == message_key(
        MESSAGES["authorization_repeat"]) == "authorization:00000123456:000123:0301093000"
    assert message_key(MESSAGES["completion"]) == message_key(MESSAGES["completion_repeat"])
    assert message_key(MESSAGES["reversal_advice"]) == message_key(
        MESSAGES["reversal_advice_repeat"])


def test_an_authorization_advice_is_not_a_repeat_of_its_request() -> None:
    """A stand-in advice books the network's approval; it must not be answered as the
    request it follows (which the issuer may have declined with a 91)."""
    request = MESSAGES["authorization"]
    advice, advice_repeat = (Message(mti, request.fields) for mti in ("0120", "0121"))
    assert message_key(advice) == message_key(advice_repeat) == (
        "authorization-advice:00000123456:000123:0301093000")
    assert message_key(advice) != message_key(request)
    original = f"0120{request.fields['11']}{request.fields['7']}{'123456':0>11}{'':0>11}"
    assert original_key(Message("0400", {"90": original})) == message_key(advice)


def test_reversal_requests_and_advices_share_the_reversal_class() -> None:
    reversal = MESSAGES["reversal"]
    keys = {message_key(Message(mti, reversal.fields)) for mti in ("0400", "0401", "0420",
                                                                    "0421")}
    assert keys == {"reversal:00000123456:000125:0301093500"}


def test_keys_differ_by_class_acquirer_stan_and_time() -> None:
    base = MESSAGES["authorization"]
    changed = [Message("0400", base.fields)] + [
        Message(base.mti, {**base.fields, key: value})
        for key, value in {"32": "123457", "11": "000124", "7": "0301093001"}.items()]
    keys = {message_key(base), *map(message_key, changed)}
    assert len(keys) == 5


def test_the_key_reads_fields_only_and_raises_without_them() -> None:
    assert message_key(Message("0100", {"32": "1", "11": "000001", "7": "0101000000"})) == (
        "authorization:00000000001:000001:0101000000")
    with pytest.raises(ValueError, match="no field 32"):
        message_key(Message("0100", {"11": "000001", "7": "0101000000"}))
    with pytest.raises(ValueError, match="do not make a key"):
        message_key(Message("0100", {"32": "1", "11": "00001", "7": "0101000000"}))
    with pytest.raises(ValueError, match="no known class"):
        message_key(Message("0500", {"32": "1", "11": "000001", "7": "0101000000"}))


@pytest.mark.parametrize("name", ["reversal", "reversal_repeat", "partial_reversal",
                                  "reversal_advice", "completion"])
def test_the_original_key_finds_the_authorization(name: str) -> None:
    for variant in VARIANTS:
        messages = corpus(variant)
        assert original_key(messages[name]) == message_key(messages["authorization"])


def test_there_is_no_original_key_without_a_valid_field_90() -> None:
    assert original_key(MESSAGES["authorization"]) is None
    assert original_key(Message("0400", {"90": "9" * 42})) is None


def test_the_transmission_time_takes_the_year_nearest_now() -> None:
    message = MESSAGES["authorization"]   # 1 March, 09:30:00
    assert transmission_time(message, datetime(2024, 3, 1, 9, 31)) == datetime(2024, 3, 1, 9,
                                                                                 30)
    late = Message("0100", {"7": "1231235959"})
    assert transmission_time(late, datetime(2025, 1, 1, 0, 0, 5, tzinfo=UTC)) == datetime(
        2024, 12, 31, 23, 59, 59, tzinfo=UTC)
    leap = Message("0100", {"7": "0229120000"})
    assert transmission_time(leap, datetime(2025, 2, 1)) == datetime(2024, 2, 29, 12)
    with pytest.raises(ValueError, match="no leap year"):
        transmission_time(leap, datetime(2026, 6, 1))
    with pytest.raises(ValueError, match="not a valid MMDDhhmmss"):
        transmission_time(Message("0100", {"7": "1301000000"}), datetime(2025, 1, 1))
