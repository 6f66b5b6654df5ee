"""Exact money: ISO 4217 exponents and the checks that turn a value into units of a currency.

Amounts are ``Decimal`` and never floats. A value is accepted only when the currency can
represent it exactly (``1.234 USD`` is refused, never rounded), and every sum the ledger
computes runs in ``MONEY_CONTEXT``, which traps rounding so an overflow of precision is a
crash rather than a silently wrong balance.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import (
    Clamped,
    Context,
    Decimal,
    DivisionByZero,
    Inexact,
    InvalidOperation,
    Overflow,
    Rounded,
    Underflow,
)
from types import MappingProxyType

__all__ = [
    "CURRENCY_EXPONENTS",
    "MONEY_CONTEXT",
    "UNITS_INTEGER_DIGITS_MAX",
    "currency_exponent",
    "parse_decimal",
    "to_units",
]

# Minor-unit exponents from ISO 4217 for the currencies a ledger commonly meets. A code that
# is not here is refused (currency_invalid) rather than guessed.
CURRENCY_EXPONENTS: Mapping[str, int] = MappingProxyType(
    {
        "AED": 2, "ARS": 2, "AUD": 2, "BDT": 2, "BGN": 2, "BHD": 3, "BRL": 2, "CAD": 2,
        "CHF": 2, "CLP": 0, "CNY": 2, "COP": 2, "CZK": 2, "DKK": 2, "EGP": 2, "EUR": 2,
        "GBP": 2, "GHS": 2, "HKD": 2, "HUF": 2, "IDR": 2, "ILS": 2, "INR": 2, "IQD": 3,
        "ISK": 0, "JOD": 3, "JPY": 0, "KES": 2, "KRW": 0, "KWD": 3, "LYD": 3, "MAD": 2,
        "MXN": 2, "MYR": 2, "NGN": 2, "NOK": 2, "NZD": 2, "OMR": 3, "PEN": 2, "PHP": 2,
        "PKR": 2, "PLN": 2, "QAR": 2, "RON": 2, "RSD": 2, "RUB": 2, "SAR": 2, "SEK": 2,
        "SGD": 2, "THB": 2, "TND": 3, "TRY": 2, "TWD": 2, "UAH": 2, "UGX": 0, "USD": 2,
        "VND": 0, "XAF": 0, "XOF": 0, "ZAR": 2,
    }
)  # fmt: skip

# |units| must stay below 10**24 in the currency's major unit: far above any real balance,
# and low enough that sums of many such amounts stay exact in MONEY_CONTEXT's 60 digits.
UNITS_INTEGER_DIGITS_MAX = 24

MONEY_CONTEXT = Context(
    prec=60,
    Emax=999_999,
    Emin=-999_999,
    traps=[InvalidOperation, DivisionByZero, Overflow, Underflow, Inexact, Rounded, Clamped],
)

# Plain decimal notation only: no exponent, no "NaN"/"Infinity", no thousands separators.
_DECIMAL_TEXT = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")

# Quantizing 9.530 to cents discards a zero digit, which signals Rounded although nothing is
# lost; only Inexact (a non-zero digit discarded) means the currency cannot hold the value.
_QUANTIZE_CONTEXT = Context(prec=60, traps=[InvalidOperation, Inexact])

_QUANTUM = {exponent: Decimal(1).scaleb(-exponent) for exponent in range(0, 5)}


def currency_exponent(currency: object) -> int | None:
    """Return the ISO 4217 minor-unit exponent of ``currency``, or None if it is not known."""
    if not isinstance(currency, str):
        return None
    return CURRENCY_EXPONENTS.get(currency)


def parse_decimal(value: object) -> Decimal | str:
    """Read ``value`` as an exact finite Decimal, or return the reason it cannot be one.

    Accepts Decimal, int (not bool) and plain decimal text such as ``"9.53"``. Floats are
    refused because their binary value is not the decimal the sender meant.
    """
    if isinstance(value, bool):
        return "a boolean is not an amount"
    if isinstance(value, Decimal):
        if not value.is_finite():
            return "a non-finite decimal is not an amount"
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return "floats are not accepted; send the amount as a decimal string"
    if isinstance(value, str):
        text = value.strip()
        if _DECIMAL_TEXT.fullmatch(text) is None:
            return "not a plain decimal number"
        return Decimal(text)
    return f"a {type(value).__name__} is not an amount"


def to_units(value: object, currency: str) -> Decimal | str:
    """Return ``value`` as units of ``currency`` at the currency's exponent, or the reason not.

    ``currency`` must be a known code. The result is quantized to the currency's exponent
    (``9.530`` USD becomes ``9.53``) only when that loses nothing; otherwise it is refused.
    """
    exponent = CURRENCY_EXPONENTS[currency]
    parsed = parse_decimal(value)
    if isinstance(parsed, str):
        return parsed
    try:
        units = parsed.quantize(_QUANTUM[exponent], context=_QUANTIZE_CONTEXT)
    except (Inexact, InvalidOperation):
        return f"{currency} has {exponent} decimal places and cannot represent it exactly"
    if units and units.adjusted() >= UNITS_INTEGER_DIGITS_MAX:
        return f"its magnitude is at or above 10^{UNITS_INTEGER_DIGITS_MAX}"
    if units.is_zero() and units.is_signed():
        units = units.copy_abs()
    return units
