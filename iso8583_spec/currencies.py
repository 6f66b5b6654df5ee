"""ISO 4217 currencies by numeric code (field 49), with their minor-unit exponents."""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True, slots=True)
class Currency:
    """``exponent`` is the number of minor-unit digits: 2 for USD cents, 0 for JPY."""

    numeric: str
    alpha: str
    exponent: int
    name: str


def _table(*currencies: Currency) -> MappingProxyType[str, Currency]:
    return MappingProxyType({currency.numeric: currency for currency in currencies})


CURRENCIES = _table(
    Currency("036", "AUD", 2, "Australian dollar"),
    Currency("048", "BHD", 3, "Bahraini dinar"),
    Currency("124", "CAD", 2, "Canadian dollar"),
    Currency("156", "CNY", 2, "Yuan renminbi"),
    Currency("208", "DKK", 2, "Danish krone"),
    Currency("344", "HKD", 2, "Hong Kong dollar"),
    Currency("356", "INR", 2, "Indian rupee"),
    Currency("392", "JPY", 0, "Yen"),
    Currency("410", "KRW", 0, "Won"),
    Currency("414", "KWD", 3, "Kuwaiti dinar"),
    Currency("484", "MXN", 2, "Mexican peso"),
    Currency("554", "NZD", 2, "New Zealand dollar"),
    Currency("578", "NOK", 2, "Norwegian krone"),
    Currency("702", "SGD", 2, "Singapore dollar"),
    Currency("752", "SEK", 2, "Swedish krona"),
    Currency("756", "CHF", 2, "Swiss franc"),
    Currency("826", "GBP", 2, "Pound sterling"),
    Currency("840", "USD", 2, "US dollar"),
    Currency("978", "EUR", 2, "Euro"),
    Currency("985", "PLN", 2, "Zloty"),
    Currency("986", "BRL", 2, "Brazilian real"),
)


def currency(numeric: str) -> Currency | None:
    """The currency with ISO 4217 numeric code ``numeric`` ("840"), None when not in the table."""
    return CURRENCIES.get(numeric)
