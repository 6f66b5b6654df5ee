"""Cards: the model, the keyed PAN hash, and PAN validation (length, digits, Luhn)."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from ledger_core import Card, Status
from ledger_core.cards import PanProblem, card_from_pan, pan_hash, pan_problem

KEY = bytes(range(32))
CARD_ID = UUID("5f0c1a2b-3c4d-4e5f-8a6b-7c8d9e0f1a2b")
ACCOUNT_ID = UUID("0b7a1c52-7a0e-4d8e-9a55-6a2f3c1d0e01")
# Test numbers of the card networks: each has a valid check digit.
VALID_PANS = ["4111111111111111", "5555555555554444", "378282246310005", "6011111111111117",
              "30569309025904", "4222222222222", "4000000000006", "6304000000000000000",
              "123456789015"]


def test_the_hash_is_hmac_sha256_of_the_pan_under_the_key() -> None:
    """RFC 4231's test case 6 (a key longer than the block), then a PAN against hmac."""
    key = b"\xaa" * 131
    assert pan_hash("Test Using Larger Than Block-Size Key - Hash Key First", key) == (
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
    pan = VALID_PANS[0]
    assert pan_hash(pan, KEY) == hmac.new(KEY, pan.encode(), hashlib.sha256).hexdigest()
    assert pan_hash(pan, KEY) != pan_hash(pan, bytes(32))


def test_a_short_key_hashes_nothing() -> None:
    """A key under 32 bytes is refused, and the error shows neither the key nor the PAN."""
    with pytest.raises(ValueError, match="at least 32 bytes") as raised:
        pan_hash(VALID_PANS[0], b"k" * 31)
    assert VALID_PANS[0] not in str(raised.value)
    assert "kkk" not in str(raised.value)


@pytest.mark.parametrize("pan", VALID_PANS)
def test_network_test_numbers_are_pans(pan: str) -> None:
    """12 to 19 digits with a valid Luhn check digit pass."""
    assert pan_problem(pan) is None


@pytest.mark.parametrize("pan, problem", [
    ("4111111111111112", PanProblem.CHECK_DIGIT_INVALID),
    ("5555555555554443", PanProblem.CHECK_DIGIT_INVALID),
    ("4111 1111 1111 1111", PanProblem.NOT_DIGITS),
    ("4111-1111-1111-1111", PanProblem.NOT_DIGITS),
    ("", PanProblem.NOT_DIGITS),
    ("\uff14111111111111111", PanProblem.NOT_DIGITS),  # a fullwidth 4 is no ASCII digit
    ("4111111111111111\n", PanProblem.NOT_DIGITS),
    ("42424242420", PanProblem.LENGTH_INVALID),  # 11 digits, valid Luhn
    ("41111111111111111115", PanProblem.LENGTH_INVALID),  # 20 digits, valid Luhn
])
def test_what_is_not_a_pan_is_named_without_its_digits(pan: str, problem: PanProblem) -> None:
    """Each problem has its own code, and its reason never repeats the number."""
    assert pan_problem(pan) is problem
    digits = pan.strip()
    assert not digits or digits not in f"{problem.value} {problem.reason}"


@given(st.sampled_from(VALID_PANS), st.data())
def test_luhn_catches_every_single_digit_error(pan: str, data: st.DataObject) -> None:
    """Changing any one digit of a valid PAN makes its check digit wrong."""
    position = data.draw(st.integers(0, len(pan) - 1))
    digit = data.draw(st.sampled_from([d for d in "0123456789" if d != pan[position]]))
    typo = pan[:position] + digit + pan[position + 1:]
    assert pan_problem(typo) is PanProblem.CHECK_DIGIT_INVALID


def test_a_card_keeps_the_hash_and_last_four_never_the_pan() -> None:
    """card_from_pan stores the hash and the last four digits; no field holds the PAN."""
    pan = "5555555555554444"
    card = card_from_pan(CARD_ID, ACCOUNT_ID, pan, KEY, "tok_123")
    assert isinstance(card, Card)
    assert (card.pan_hash, card.last_four, card.card_token, card.status) == (
        pan_hash(pan, KEY), "4444", "tok_123", Status.ACTIVE)
    assert pan not in card.model_dump_json()
    assert card_from_pan(CARD_ID, ACCOUNT_ID, "5555555555554445", KEY) is (
        PanProblem.CHECK_DIGIT_INVALID)


def _card(**changes: Any) -> dict[str, Any]:
    card = card_from_pan(CARD_ID, ACCOUNT_ID, VALID_PANS[0], KEY)
    assert isinstance(card, Card)
    return {**card.model_dump(mode="json", by_alias=True), **changes}


def test_the_model_reads_camel_case_and_writes_it_back() -> None:
    """Twisp-shaped input validates, and by_alias dumps give the same document back."""
    body = _card(cardToken="tok_1", metadata={"program": "debit"}, status="LOCKED")
    assert set(body) == {"cardId", "accountId", "panHash", "lastFour", "cardToken", "status",
                         "metadata"}
    card = Card.model_validate(body)
    assert card.status is Status.LOCKED
    assert card.model_dump(mode="json", by_alias=True) == body


@pytest.mark.parametrize("field, value, reason", [
    ("panHash", "A" * 64, "64 lowercase hex"),
    ("panHash", "a" * 63, "64 lowercase hex"),
    ("panHash", VALID_PANS[0], "64 lowercase hex"),
    ("lastFour", "111", "4 digits"),
    ("lastFour", "11a1", "4 digits"),
    ("status", "INACTIVE", "ACTIVE or LOCKED"),
    ("cardToken", "", "not empty"),
    ("cardToken", "t" * 129, "more than the 128 allowed"),
    ("cardToken", VALID_PANS[1], "may not be a PAN"),
    ("pan", VALID_PANS[0], "Extra inputs are not permitted"),
])
def test_the_model_refuses_malformed_fields(field: str, value: str, reason: str) -> None:
    """A hash that is not 64 lowercase hex digits, last four that are not 4 digits, an
    INACTIVE card, an empty or overlong token, a PAN as the token, and a PAN field are
    refused."""
    with pytest.raises(ValidationError, match=reason):
        Card.model_validate(_card(**{field: value}))
