"""The response codes (field 39) the server answers with, as 1987 defines them."""

from __future__ import annotations

from types import MappingProxyType

APPROVED = "00"
DO_NOT_HONOR = "05"
INVALID_AMOUNT = "13"
INVALID_CARD_NUMBER = "14"
FORMAT_ERROR = "30"
INSUFFICIENT_FUNDS = "51"
RESTRICTED_CARD = "62"
ISSUER_UNAVAILABLE = "91"
SYSTEM_MALFUNCTION = "96"

RESPONSE_CODES = MappingProxyType({
    APPROVED: "Approved",
    DO_NOT_HONOR: "Do not honor: declined without a more specific reason",
    INVALID_AMOUNT: "Invalid amount: zero, malformed or beyond what the card may do",
    INVALID_CARD_NUMBER: "Invalid card number: no such card, or it fails its check digit",
    FORMAT_ERROR: "Format error: the message could not be read or breaks a field rule",
    INSUFFICIENT_FUNDS: "Insufficient funds: the available balance does not cover the amount",
    RESTRICTED_CARD: "Restricted card: the card may not be used for this transaction",
    ISSUER_UNAVAILABLE: "Issuer or switch inoperative: the ledger could not be reached in time",
    SYSTEM_MALFUNCTION: "System malfunction: an unexpected error while processing",
})
