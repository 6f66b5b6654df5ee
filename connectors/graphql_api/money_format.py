"""``Money.formatted``: an exact amount written for people, in a locale's notation.

Twisp's ``MoneyFormatInput`` names the options; their defaults here:

- ``locale``: ``en-US`` (a BCP 47 tag or ``en_US``), whose CLDR patterns (Babel) place the
  symbol, the sign, and the group and decimal separators;
- ``currencyDisplay``: ``SYMBOL`` (``$``), ``CODE`` (``USD``) or ``NONE``;
- ``minDigits``: the currency's minor unit (2 for USD, 0 for JPY), or ``maxDigits`` if that
  is less; ``maxDigits``: 6. The fraction shows the amount's own digits, at least
  ``minDigits`` and at most ``maxDigits``;
- ``roundingMode``: ``HALF_UP``, applied only when the amount has more than ``maxDigits``;
- ``groupDigits``: true; ``addPlusSign``: false (a positive amount gets the locale's ``+``).

Rounding happens once, in ``Decimal`` with the mode asked for: the amount never passes
through a float, and Babel is given a value that already has its final digits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_DOWN, ROUND_HALF_UP, ROUND_UP, Decimal

from babel import Locale, UnknownLocaleError
from babel.numbers import get_currency_precision, get_plus_sign_symbol, parse_pattern

__all__ = ["MoneyFormat", "MoneyFormatError", "format_money"]

ROUNDING = {"HALF_DOWN": ROUND_HALF_DOWN, "HALF_UP": ROUND_HALF_UP, "DOWN": ROUND_DOWN,
            "UP": ROUND_UP}
# More fraction digits than any amount the ledger keeps needs (its scale is at most 18).
DIGITS_MAX = 18


class MoneyFormatError(ValueError):
    """The options cannot format money: an unknown locale, or digits out of range."""


@dataclass(frozen=True)
class MoneyFormat:
    """The options of one ``formatted`` field; None takes the default above."""

    locale: str = "en-US"
    group_digits: bool = True
    add_plus_sign: bool = False
    rounding_mode: str = "HALF_UP"
    currency_display: str = "SYMBOL"
    min_digits: int | None = None
    max_digits: int = 6


def format_money(units: Decimal, currency: str, options: MoneyFormat) -> str:
    """``units`` of ``currency`` as ``options`` write them."""
    try:
        locale = Locale.parse(options.locale.replace("-", "_"))
    except (UnknownLocaleError, ValueError) as exc:
        raise MoneyFormatError(f"locale {options.locale!r} is not a known locale: {exc}") \
            from None
    minimum = get_currency_precision(currency) if options.min_digits is None \
        else options.min_digits
    maximum = options.max_digits
    if not 0 <= minimum <= DIGITS_MAX or not 0 <= maximum <= DIGITS_MAX:
        raise MoneyFormatError(f"minDigits and maxDigits must be between 0 and {DIGITS_MAX}")
    if options.min_digits is None:
        minimum = min(minimum, maximum)  # the currency's default gives way to maxDigits
    elif minimum > maximum:
        raise MoneyFormatError(f"minDigits {minimum} is more than maxDigits {maximum}")
    exponent = units.normalize().as_tuple().exponent
    own = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    digits = min(max(own, minimum), maximum)
    value = units.quantize(Decimal(1).scaleb(-digits), rounding=ROUNDING[options.rounding_mode])
    if value.is_zero():
        value = value.copy_abs()  # what rounds to zero is shown without a sign
    if options.currency_display == "NONE":
        pattern = locale.decimal_formats[None].pattern
    else:
        pattern = locale.currency_formats["standard"].pattern
        if options.currency_display == "CODE":
            # CLDR's currency spacing, which Babel leaves out: a code that would touch a
            # digit is kept apart by a no-break space (USD 5.00, not USD5.00).
            pattern = pattern.replace("¤", "¤¤")
            pattern = re.sub(r"¤¤(?=[#0])", "¤¤\u00a0", pattern)
            pattern = re.sub(r"(?<=[#0])¤¤", "\u00a0¤¤", pattern)
    number = parse_pattern(pattern)
    number.frac_prec = (digits, digits)
    text: str = number.apply(value, locale, currency=currency, currency_digits=False,
                        group_separator=options.group_digits)
    if options.add_plus_sign and value > 0:
        text = get_plus_sign_symbol(locale) + text
    return text
