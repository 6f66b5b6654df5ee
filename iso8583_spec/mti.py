"""Message type indicators: the ones handled, their classes, and the MTI of an answer.

An MTI's four digits are, in 1987, the version (0), the class (1 authorization, 2 financial,
4 reversal, 8 network management), the function (0 request, 1 its response, 2 advice, 3 its
response) and the origin (0 acquirer, 1 acquirer repeat).
"""

from __future__ import annotations

from types import MappingProxyType

AUTHORIZATION_REQUEST = "0100"
AUTHORIZATION_REQUEST_REPEAT = "0101"
AUTHORIZATION_ADVICE = "0120"
AUTHORIZATION_ADVICE_REPEAT = "0121"
FINANCIAL_ADVICE = "0220"
FINANCIAL_ADVICE_REPEAT = "0221"
REVERSAL_REQUEST = "0400"
REVERSAL_REQUEST_REPEAT = "0401"
REVERSAL_ADVICE = "0420"
REVERSAL_ADVICE_REPEAT = "0421"
NETWORK_REQUEST = "0800"

HANDLED = MappingProxyType({
    AUTHORIZATION_REQUEST: "Authorization request",
    AUTHORIZATION_REQUEST_REPEAT: "Authorization request repeat",
    AUTHORIZATION_ADVICE: "Authorization advice",
    AUTHORIZATION_ADVICE_REPEAT: "Authorization advice repeat",
    FINANCIAL_ADVICE: "Financial transaction advice (completion, clearing)",
    FINANCIAL_ADVICE_REPEAT: "Financial transaction advice repeat",
    REVERSAL_REQUEST: "Reversal request",
    REVERSAL_REQUEST_REPEAT: "Reversal request repeat",
    REVERSAL_ADVICE: "Reversal advice",
    REVERSAL_ADVICE_REPEAT: "Reversal advice repeat",
    NETWORK_REQUEST: "Network management request",
})

# The class digit names the transaction a message belongs to: a request, its repeat and its
# advice are the same transaction, so they share an idempotency key.
CLASSES = MappingProxyType({
    "1": "authorization",
    "2": "financial",
    "4": "reversal",
    "8": "network",
})

_ANSWERED_FUNCTIONS = frozenset("02")   # a request or an advice takes a response
_ORIGINS = frozenset("01")              # from the acquirer, first or repeated


def is_mti(text: str) -> bool:
    """Four decimal digits."""
    return len(text) == 4 and text.isascii() and text.isdigit()


def message_class(mti: str) -> str | None:
    """The class name of ``mti`` ("authorization", "reversal", ...), None when not one of them."""
    return CLASSES.get(mti[1:2]) if is_mti(mti) else None


def is_repeat(mti: str) -> bool:
    return is_mti(mti) and mti[3] == "1"


def response_mti(mti: str) -> str | None:
    """The MTI answering ``mti``: function plus one, the repeat digit cleared (0101 -> 0110,
    0421 -> 0430); None when ``mti`` is not a request or advice from an acquirer."""
    if not is_mti(mti) or mti[2] not in _ANSWERED_FUNCTIONS or mti[3] not in _ORIGINS:
        return None
    return f"{mti[:2]}{int(mti[2]) + 1}0"
