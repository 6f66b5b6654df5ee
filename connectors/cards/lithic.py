"""Lithic Auth Stream Access (ASA): the request, its signature, and the answer. No I/O.

Lithic posts every authorization it wants decided to the program's ASA responder and takes
the JSON answer's ``result`` as the decision. This module turns the request into the
ledger's ``CardEvent`` and the engine's ``Decision`` into that answer.

Signature. Since May 2023 Lithic signs ASA requests exactly as it signs the webhooks of its
Events API (its announcement and changelog of 22 May 2023): the Standard Webhooks scheme
its SDKs verify, checked by ``connectors.webhooks.signing.verify_signature``. Before these
headers, a responder could only trust Lithic's published IP addresses; Lithic asked
programs to move to the signature.

Amounts. Lithic sends integer minor units; they become ``Decimal`` in major units at the
currency's ISO 4217 exponent, never through float. The amount held is ``amounts.hold``
when Lithic reports one (programs with hold adjustments, e.g. fuel), else
``amounts.cardholder``, else the deprecated top-level ``amount`` with
``cardholder_currency`` for payloads that predate ``amounts``: always the cardholder's
billing currency, the currency of the ledger account.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Final

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StringConstraints, model_validator
from pydantic_core import PydanticCustomError

from connectors.cards.events import CardEvent, CardEventKind, Decision, DecisionCode
from ledger_core import currency_exponent

__all__ = [
    "RESULTS",
    "AsaRequest",
    "event_from",
    "ledger_key",
    "response_for",
]

# Lithic's tokens are UUIDs; the bound is looser so a change of format is no outage, but
# tight enough that nothing but an identifier gets into a ledger key or a log line.
Token = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
# Minor units; 10**15 is far above any card limit and keeps the Decimal exact.
MinorUnits = Annotated[StrictInt, Field(ge=0, le=10**15)]
# Statuses are open-ended on Lithic's side: an unknown one is declined, not refused as invalid.
Status = Annotated[str, StringConstraints(pattern=r"^[A-Z_]{1,64}$")]


class _Edge(BaseModel):
    # Lithic adds fields over time: ignore what is not read here, forbid nothing.
    model_config = ConfigDict(extra="ignore", frozen=True)


class AsaCard(_Edge):
    """The ``card`` object: only its token is read."""

    token: Token


class AsaAmount(_Edge):
    """One of the structured ``amounts``."""

    amount: MinorUnits
    currency: Currency


class AsaAmounts(_Edge):
    """``amounts``: what the cardholder is charged and, with hold adjustments, what is held."""

    cardholder: AsaAmount
    hold: AsaAmount | None = None


class AsaRequest(_Edge):
    """The fields of an ASA request this ledger needs; all others are ignored."""

    token: Token
    status: Status
    card: AsaCard | None = None
    card_token: Token | None = None  # the transaction object's flat form of card.token
    amounts: AsaAmounts | None = None
    amount: MinorUnits | None = None  # deprecated by Lithic in favour of amounts
    cardholder_currency: Currency | None = None

    @model_validator(mode="after")
    def _names_a_card_and_an_amount(self) -> AsaRequest:
        # The missing field travels in the error's context: a model-level error has no loc.
        if self.card is None and self.card_token is None:
            raise PydanticCustomError("missing", "{field} is required", {"field": "card.token"})
        if self.amounts is None and (self.amount is None or self.cardholder_currency is None):
            raise PydanticCustomError("missing", "{field} is required", {"field": "amounts"})
        return self

    @property
    def card_reference(self) -> str:
        """The card's token, from ``card.token`` or the flat ``card_token``."""
        if self.card is not None:
            return self.card.token
        assert self.card_token is not None  # the validator requires one of them
        return self.card_token

    @property
    def held(self) -> tuple[int, str]:
        """(minor units, currency) to hold on the cardholder's account."""
        if self.amounts is not None:
            chosen = self.amounts.hold or self.amounts.cardholder
            return chosen.amount, chosen.currency
        assert self.amount is not None and self.cardholder_currency is not None
        return self.amount, self.cardholder_currency


# The ASA statuses the ledger books, and as what. FINANCIAL_AUTHORIZATION (single-message,
# e.g. PIN debit or ATM) is held like an authorization: it reserves the funds at once and
# its settlement is booked as a clearing like any other.
_KINDS: Final = {
    "AUTHORIZATION": CardEventKind.AUTHORIZATION,
    "FINANCIAL_AUTHORIZATION": CardEventKind.AUTHORIZATION,
}
# Statuses Lithic documents that the engine has no event for: declined by the front door.
# Credit authorizations reach an ASA responder only when the program enables credit
# decisioning; a balance inquiry would need a balance read the Decider does not offer.
_NOT_BOOKED: Final = {
    "BALANCE_INQUIRY": "balance inquiries are not answered by this ledger",
    "CREDIT_AUTHORIZATION": "credit authorizations are not decided by this ledger",
    "FINANCIAL_CREDIT_AUTHORIZATION": "credit authorizations are not decided by this ledger",
}


def ledger_key(token: str) -> str:
    """The key of the ledger transaction of Lithic transaction ``token``: Lithic repeats the
    token when it retries a request, so a retry books nothing new."""
    return f"lithic:{token}"


def event_from(request: AsaRequest) -> CardEvent | Decision:
    """The card event to decide, or the front door's own decline when there is none."""
    kind = _KINDS.get(request.status)
    if kind is None:
        reason = _NOT_BOOKED.get(request.status, f"ASA status {request.status} is not supported")
        return Decision(DecisionCode.FORMAT_ERROR, reason)
    minor, currency = request.held
    exponent = currency_exponent(currency)
    if exponent is None:
        return Decision(DecisionCode.AMOUNT_INVALID, f"currency {currency} is not known")
    key = ledger_key(request.token)
    return CardEvent(kind=kind, key=key, hold_key=key, amount=Decimal(minor).scaleb(-exponent),
                     currency=currency, card_token=request.card_reference)


# Each DecisionCode as one of the results Lithic's ASA response enumerates (a value outside
# the enumeration is also a decline, but one Lithic reports only as CUSTOM_ASA_RESULT). The
# enumeration has no result for an unknown card, a bad message or an error on our side, so:
# a card or account the ledger will not let spend is CARD_PAUSED, and whatever is wrong
# with the transaction rather than the card is UNAUTHORIZED_MERCHANT (not permitted here).
RESULTS: Final[Mapping[DecisionCode, str]] = {
    DecisionCode.APPROVED: "APPROVED",
    DecisionCode.INSUFFICIENT_FUNDS: "INSUFFICIENT_FUNDS",
    DecisionCode.UNKNOWN_CARD: "CARD_PAUSED",
    DecisionCode.CARD_LOCKED: "CARD_PAUSED",
    DecisionCode.ACCOUNT_LOCKED: "CARD_PAUSED",
    DecisionCode.AMOUNT_INVALID: "UNAUTHORIZED_MERCHANT",
    DecisionCode.FORMAT_ERROR: "UNAUTHORIZED_MERCHANT",
    DecisionCode.SYSTEM_ERROR: "UNAUTHORIZED_MERCHANT",
    DecisionCode.LEDGER_TIMEOUT: "UNAUTHORIZED_MERCHANT",
}


def response_for(request: AsaRequest, decision: Decision) -> dict[str, str]:
    """The ASA response body: the request's token and Lithic's result for the decision."""
    return {"token": request.token, "result": RESULTS[decision.code]}
