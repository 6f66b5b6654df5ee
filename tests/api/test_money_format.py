"""``Money.formatted``: exact amounts in a locale's notation, pure and through the API."""

import uuid
from decimal import Decimal

import pytest

from connectors.graphql_api.money_format import MoneyFormat, MoneyFormatError, format_money
from tests.api.chart import open_chart, open_customer
from tests.api.conftest import LiveApi
from tests.api.test_writes import post

NBSP = "\u00a0"


@pytest.mark.parametrize(("units", "currency", "options", "expected"), [
    ("1234.5", "USD", MoneyFormat(), "$1,234.50"),
    ("-1234.5", "EUR", MoneyFormat(locale="de-DE"), f"-1.234,50{NBSP}€"),
    ("1234.5", "EUR", MoneyFormat(locale="fr_FR"), f"1\u202f234,50{NBSP}€"),
    ("1000", "JPY", MoneyFormat(locale="ja-JP"), "￥1,000"),
    ("1000", "JPY", MoneyFormat(), "¥1,000"),
    ("5", "USD", MoneyFormat(add_plus_sign=True, currency_display="CODE"), f"+USD{NBSP}5.00"),
    ("-5", "USD", MoneyFormat(add_plus_sign=True), "-$5.00"),
    ("1234567.1", "USD", MoneyFormat(group_digits=False, currency_display="NONE"),
     "1234567.10"),
    ("0.123456789", "USD", MoneyFormat(), "$0.123457"),
    ("0.10000", "USD", MoneyFormat(), "$0.10"),
    ("7", "USD", MoneyFormat(min_digits=0), "$7"),
    ("7.5", "USD", MoneyFormat(min_digits=4), "$7.5000"),
])
def test_amounts_are_written_as_the_locale_writes_them(units: str, currency: str,
                                                       options: MoneyFormat,
                                                       expected: str) -> None:
    """Symbol, code or none; separators, grouping and sign as the locale's CLDR data say;
    the fraction shows the amount's own digits within minDigits and maxDigits."""
    assert format_money(Decimal(units), currency, options) == expected


@pytest.mark.parametrize(("mode", "expected"), [
    ("HALF_UP", ["$0.13", "-$0.13", "$0.12"]),
    ("HALF_DOWN", ["$0.12", "-$0.12", "$0.12"]),
    ("DOWN", ["$0.12", "-$0.12", "$0.12"]),
    ("UP", ["$0.13", "-$0.13", "$0.13"]),
])
def test_rounding_is_exact_and_follows_the_mode(mode: str, expected: list[str]) -> None:
    """0.125, -0.125 and 0.121 rounded to two digits in each mode, in Decimal."""
    options = MoneyFormat(max_digits=2, rounding_mode=mode)
    assert [format_money(Decimal(u), "USD", options) for u in ("0.125", "-0.125", "0.121")] \
        == expected


def test_what_rounds_to_zero_has_no_sign() -> None:
    """-0.01 shown without digits is $0 (DOWN) or -$1 (UP, away from zero)."""
    assert format_money(Decimal("-0.01"), "USD", MoneyFormat(max_digits=0,
                                                             rounding_mode="DOWN")) == "$0"
    assert format_money(Decimal("-0.01"), "USD", MoneyFormat(max_digits=0,
                                                             rounding_mode="UP")) == "-$1"


@pytest.mark.parametrize("options", [
    MoneyFormat(locale="xx-NOPE"), MoneyFormat(min_digits=5, max_digits=2),
    MoneyFormat(max_digits=40), MoneyFormat(min_digits=-1)])
def test_options_that_cannot_format_are_refused(options: MoneyFormat) -> None:
    """An unknown locale, or digits out of range or crossed."""
    with pytest.raises(MoneyFormatError):
        format_money(Decimal("1"), "USD", options)


FORMATTED = """
query Formatted($id: UUID!) {
  account(id: $id) {
    balance {
      settled {
        normalBalance {
          plain: formatted
          german: formatted(as: {locale: "de-DE", currencyDisplay: CODE})
          whole: formatted(as: {maxDigits: 0, roundingMode: UP, addPlusSign: true})
        }
      }
    }
  }
}
"""


def test_balances_are_formatted_through_the_api(shared_api: LiveApi) -> None:
    """A posted balance, formatted three ways in one request; a bad locale is bad_request."""
    chart = open_chart(shared_api)
    customer = open_customer(shared_api, chart)
    assert "errors" not in post(shared_api, chart.deposit, customer, "1234.25", uuid.uuid4())
    money = shared_api.data(FORMATTED, {"id": str(customer)})["account"]["balance"][
        "settled"]["normalBalance"]
    assert money == {"plain": "$1,234.25", "german": f"1.234,25{NBSP}USD", "whole": "+$1,235"}
    error = shared_api.error(FORMATTED.replace('"de-DE"', '"xx-NOPE"'), {"id": str(customer)})
    assert error["extensions"]["rule"] == "bad_request"
