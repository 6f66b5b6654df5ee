"""Typed values out of a message for the server: amounts as Decimal, the currency, the card
number, and the keys that make processing idempotent and tie a reversal to its original.

Each reader expects a message without problems (``problems`` is empty); given one that lacks
or garbles the field it reads, it raises ValueError naming the field, never its value.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from iso8583_spec.currencies import Currency, currency
from iso8583_spec.elements import digits, original_data, replacement_amounts, valid_transmission
from iso8583_spec.fields import PAN, TRACK_2
from iso8583_spec.message import Message
from iso8583_spec.mti import message_class

_ACQUIRER_WIDTH = 11   # field 32 is n..11; field 90 carries it right-justified, zero-filled


def _field(message: Message, number: int) -> str:
    value = message.get(number)
    if value is None:
        raise ValueError(f"the message has no field {number}")
    return value


def transaction_currency(message: Message) -> Currency:
    """The currency of field 49."""
    found = currency(_field(message, 49))
    if found is None:
        raise ValueError("field 49 is not a known currency")
    return found


def currency_alpha(message: Message) -> str:
    """The ISO 4217 alphabetic code of field 49 ("USD")."""
    return transaction_currency(message).alpha


def _major_units(minor: str, number: int, message: Message) -> Decimal:
    if not digits(minor):
        raise ValueError(f"field {number} is not an amount")
    return Decimal(int(minor)).scaleb(-transaction_currency(message).exponent)


def amount(message: Message) -> Decimal:
    """Field 4 in major units of field 49's currency: 000000001234 in USD is Decimal("12.34")."""
    return _major_units(_field(message, 4), 4, message)


def replacement_amount(message: Message) -> Decimal:
    """The replacement transaction amount of field 95 (what remains after a partial reversal),
    in major units of field 49's currency."""
    amounts = replacement_amounts(_field(message, 95))
    if amounts is None:
        raise ValueError("field 95 is not replacement amounts")
    return _major_units(str(amounts.transaction), 95, message)


def card_number(message: Message) -> str:
    """The PAN: field 2, else the digits of track 2 before its separator."""
    pan = message.get(PAN)
    if pan is not None:
        return pan
    track = _field(message, TRACK_2)
    for separator in "=D":
        if separator in track:
            return track.split(separator, 1)[0]
    raise ValueError("field 35 has no separator")


def _key(kind: str, acquirer: str, stan: str, transmission: str) -> str:
    return f"{kind}:{acquirer.zfill(_ACQUIRER_WIDTH)}:{stan}:{transmission}"


def _kind(mti: str) -> str | None:
    """What a key names of the MTI: its class, and for an authorization whether it is the
    request or the advice. A stand-in advice reports the network's own approval of a request
    the issuer did not answer in time: a booking of its own, not a repeat of the request
    (whose hold the issuer's 91 voided). A reversal request and its advice are one reversal."""
    kind = message_class(mti)
    if kind == "authorization" and mti[2] == "2":
        return "authorization-advice"
    return kind


def message_key(message: Message) -> str:
    """The idempotency key of ``message``: its kind (``_kind``), acquirer (32), STAN (11) and
    transmission time (7). A repeat shares it with the message it repeats."""
    kind = _kind(message.mti)
    if kind is None:
        raise ValueError("the MTI has no known class")
    acquirer, stan, transmission = (_field(message, 32), _field(message, 11),
                                    _field(message, 7))
    if not (digits(acquirer) and len(acquirer) <= _ACQUIRER_WIDTH and digits(stan, 6)
            and valid_transmission(transmission)):
        raise ValueError("fields 32, 11 and 7 do not make a key")
    return _key(kind, acquirer, stan, transmission)


def original_key(message: Message) -> str | None:
    """The ``message_key`` of the message field 90 names (the authorization a reversal
    releases or a completion settles); None without a field 90 or when it is malformed."""
    text = message.get(90)
    data = original_data(text) if text is not None else None
    kind = _kind(data.mti) if data is not None else None
    if data is None or kind is None:
        return None
    return _key(kind, data.acquirer, data.stan, data.transmission)


def transmission_time(message: Message, now: datetime) -> datetime:
    """Field 7 as a datetime: the field has no year, so the one that puts it nearest ``now``
    (which is naive or aware as the result will be; field 7 is GMT)."""
    text = _field(message, 7)
    if not valid_transmission(text):
        raise ValueError("field 7 is not a valid MMDDhhmmss")
    month, day, hour, minute, second = (int(text[index:index + 2]) for index in range(0, 10, 2))
    candidates = []
    for year in (now.year - 1, now.year, now.year + 1):
        try:
            candidates.append(now.replace(year=year, month=month, day=day, hour=hour,
                                          minute=minute, second=second, microsecond=0))
        except ValueError:   # 29 February outside a leap year
            continue
    if not candidates:
        raise ValueError("field 7 is 29 February and no leap year is near")
    return min(candidates, key=lambda moment: abs(moment - now))
