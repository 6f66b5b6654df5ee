"""Exact money: ISO 4217 exponents, no floats, no rounding."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ledger_core import CURRENCY_EXPONENTS, currency_exponent, to_units


def test_exponents_of_common_currencies() -> None:
    """USD and EUR have 2 places, JPY none, BHD three."""
    assert [currency_exponent(c) for c in ("USD", "EUR", "JPY", "BHD", "INR")] == [2, 2, 0, 3, 2]
    assert currency_exponent("XYZ") is None
    assert all(len(code) == 3 and code.isupper() for code in CURRENCY_EXPONENTS)


@pytest.mark.parametrize(
    ("value", "currency", "expected"),
    [("9.53", "USD", "9.53"), ("9.530", "USD", "9.53"), ("100", "JPY", "100"),
     (7, "USD", "7.00"), (Decimal("0.125"), "BHD", "0.125"), ("-4.28", "USD", "-4.28")],
)  # fmt: skip
def test_representable_amounts_are_kept_exactly(
    value: object, currency: str, expected: str
) -> None:
    """An amount the currency can hold is kept at the currency's scale, unchanged in value."""
    units = to_units(value, currency)
    assert isinstance(units, Decimal)
    assert str(units) == expected


@pytest.mark.parametrize(
    ("value", "currency"),
    [("1.234", "USD"), ("0.5", "JPY"), (1.5, "USD"), ("NaN", "USD"), (Decimal("Infinity"), "USD"),
     (Decimal("NaN"), "USD"), ("1e3", "USD"), (True, "USD"), ("10" * 13, "USD")],
)  # fmt: skip
def test_unrepresentable_amounts_are_refused(value: object, currency: str) -> None:
    """Floats, non-finite values, excess precision and absurd magnitudes give a reason."""
    assert isinstance(to_units(value, currency), str)
