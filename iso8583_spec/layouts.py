"""Which fields each handled MTI must carry and which it may: anything else is unexpected."""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from iso8583_spec import mti


@dataclass(frozen=True, slots=True)
class Layout:
    """The fields of one message type. ``card_data``: field 2 or field 35 must be present.
    ``nonzero_amount``: field 4 may not be zero (an authorization asks for an amount)."""

    mandatory: frozenset[int]
    optional: frozenset[int]
    card_data: bool = False
    nonzero_amount: bool = False

    @property
    def allowed(self) -> frozenset[int]:
        return self.mandatory | self.optional


# Card data and the secondary fields a network may add: the PAN or track 2, expiry, merchant
# type, point of service condition, forwarding institution, the acceptor's name, additional
# amounts, the account and the MAC.
_CONTEXT = frozenset({2, 12, 13, 14, 18, 25, 33, 35, 43, 54, 102, 128})
# What identifies a transaction and where it happened; every financial message carries it.
_TRANSACTION = frozenset({3, 4, 7, 11, 32, 37, 41, 42, 49})

_AUTHORIZATION_REQUEST = Layout(mandatory=_TRANSACTION | {22}, optional=_CONTEXT,
                                card_data=True, nonzero_amount=True)
# An advice reports what a stand-in already decided: its response code, and the approval code
# when it approved.
_AUTHORIZATION_ADVICE = Layout(mandatory=_TRANSACTION | {22, 39}, optional=_CONTEXT | {38},
                               card_data=True)
# A completion or clearing may name the authorization it completes in field 90.
_FINANCIAL_ADVICE = Layout(mandatory=_TRANSACTION, optional=_CONTEXT | {22, 38, 39, 90},
                           card_data=True)
# A reversal names its original in field 90; field 95 makes it partial. It finds the original
# by field 90, so it need not repeat the card data.
_REVERSAL_REQUEST = Layout(mandatory=_TRANSACTION | {90}, optional=_CONTEXT | {22, 38, 39, 95})
# A reversal advice says why in field 39 (a timeout, a late or refused response).
_REVERSAL_ADVICE = Layout(mandatory=_TRANSACTION | {39, 90}, optional=_CONTEXT | {22, 38, 95})
_NETWORK_REQUEST = Layout(mandatory=frozenset({7, 11, 70}), optional=frozenset({32, 33, 128}))

LAYOUTS = MappingProxyType({
    mti.AUTHORIZATION_REQUEST: _AUTHORIZATION_REQUEST,
    mti.AUTHORIZATION_REQUEST_REPEAT: _AUTHORIZATION_REQUEST,
    mti.AUTHORIZATION_ADVICE: _AUTHORIZATION_ADVICE,
    mti.AUTHORIZATION_ADVICE_REPEAT: _AUTHORIZATION_ADVICE,
    mti.FINANCIAL_ADVICE: _FINANCIAL_ADVICE,
    mti.FINANCIAL_ADVICE_REPEAT: _FINANCIAL_ADVICE,
    mti.REVERSAL_REQUEST: _REVERSAL_REQUEST,
    mti.REVERSAL_REQUEST_REPEAT: _REVERSAL_REQUEST,
    mti.REVERSAL_ADVICE: _REVERSAL_ADVICE,
    mti.REVERSAL_ADVICE_REPEAT: _REVERSAL_ADVICE,
    mti.NETWORK_REQUEST: _NETWORK_REQUEST,
})

# Field 70 of an 0800.
SIGN_ON, SIGN_OFF, ECHO_TEST = "001", "002", "301"
NETWORK_CODES = MappingProxyType({SIGN_ON: "Sign-on", SIGN_OFF: "Sign-off",
                                  ECHO_TEST: "Echo test"})
