"""Test messages built in code: every handled MTI, in a form for each variant.

The card numbers are the networks' published test numbers; the only difference between the
variants is the track 2 separator ("=" in ASCII, the nibble D in BCD).
"""

from __future__ import annotations

from iso8583_spec import Message

VISA, MASTERCARD, AMEX, DISCOVER = ("4111111111111111", "5555555555554444", "378282246310005",
                                    "6011111111111117")
PANS = (VISA, MASTERCARD, AMEX, DISCOVER)
VARIANTS = ("ascii", "binary")

ACQUIRER = "123456"
ORIGINAL_TRANSMISSION = "0301093000"
ORIGINAL_STAN = "000123"
# Field 90 of a reversal or completion of the authorization below: its MTI, STAN, transmission
# time, the acquirer right-justified in 11 digits, and no forwarding institution.
ORIGINAL_DATA = f"0100{ORIGINAL_STAN}{ORIGINAL_TRANSMISSION}{ACQUIRER:0>11}{'0' * 11}"
MAC = "0123456789ABCDEF"
ACCEPTOR_NAME = f"{'ACME HARDWARE':<25}{'SPRINGFIELD':<13}US"


def _transaction(pan: str, **extra: str) -> dict[str, str]:
    fields = {
        "2": pan, "3": "000000", "4": "000000012345", "7": ORIGINAL_TRANSMISSION,
        "11": ORIGINAL_STAN, "12": "043000", "13": "0301", "14": "2812", "18": "5251",
        "22": "051", "25": "00", "32": ACQUIRER, "37": "406009123456", "41": "TERM0001",
        "42": "ACME0000000001 ", "43": ACCEPTOR_NAME, "49": "840",
    }
    fields.update(extra)
    return fields


def _without(fields: dict[str, str], *numbers: str) -> dict[str, str]:
    return {key: value for key, value in fields.items() if key not in numbers}


def track_2(pan: str, variant: str) -> str:
    """A track 2 for ``pan``: expiry 2812, service code 101, discretionary data."""
    return f"{pan}{'=' if variant == 'ascii' else 'D'}2812101123456"


def corpus(variant: str) -> dict[str, Message]:
    """Named valid messages; each passes validation and round-trips in ``variant``."""
    authorization = _transaction(VISA, **{"128": MAC})
    by_track = _without(_transaction(AMEX, **{"35": track_2(AMEX, variant), "11": "000124",
                                              "37": "406009123457", "22": "901"}), "2")
    completion = _transaction(MASTERCARD, **{"4": "000000010000", "7": "0302120000",
                                             "11": "000200", "37": "406109000200",
                                             "38": "A1B2C3", "90": ORIGINAL_DATA,
                                             "49": "978"})
    reversal = _without(_transaction(VISA, **{"7": "0301093500", "11": "000125",
                                              "90": ORIGINAL_DATA}),
                        "12", "13", "14", "18", "22", "25", "43")
    network = {"7": "0301080000", "11": "000001", "32": ACQUIRER}
    return {
        "authorization": Message("0100", authorization),
        "authorization_repeat": Message("0101", authorization),
        "authorization_by_track_2": Message("0100", by_track),
        "authorization_yen": Message("0100", _transaction(
            DISCOVER, **{"4": "000000001500", "49": "392", "11": "000126",
                         "54": "1001392C000000000500", "102": "0012345678"})),
        "authorization_advice": Message("0120", _transaction(
            VISA, **{"11": "000127", "38": "123ABC", "39": "00", "33": "654321"})),
        "authorization_advice_repeat": Message("0121", _transaction(
            VISA, **{"11": "000127", "38": "123ABC", "39": "00", "33": "654321"})),
        "completion": Message("0220", completion),
        "completion_repeat": Message("0221", completion),
        "reversal": Message("0400", reversal),
        "reversal_repeat": Message("0401", reversal),
        "partial_reversal": Message("0400", {
            **reversal, "11": "000128",
            "95": "000000002345000000002345C00000000C00000000"}),
        "reversal_advice": Message("0420", {**reversal, "11": "000129", "39": "68"}),
        "reversal_advice_repeat": Message("0421", {**reversal, "11": "000129", "39": "68"}),
        "echo": Message("0800", {**network, "70": "301"}),
        "sign_on": Message("0800", {**network, "70": "001", "11": "000002"}),
        "sign_off": Message("0800", {**network, "70": "002", "11": "000003", "128": MAC}),
    }
