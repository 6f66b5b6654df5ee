"""The ``cards`` namespace of the schema: Twisp's ``cards.postLithicTransaction``.

The webhook is a Lithic ASA request. It is decided by the instance's card authorization
engine, the one every card front door uses: the hold is booked through the card tran codes
on the account the input names, judged by that account's no-overdraft limit on
available(PENDING), and the retries of a Lithic transaction (the same ``token``) book
nothing new. The answer is the hold as posted and the account's balance, both read once
the read model includes the engine's write. A decline is an error whose
``extensions.decision`` is the engine's decision code.
"""

from __future__ import annotations

from dataclasses import replace
from uuid import UUID

import strawberry
from pydantic import ValidationError

import ledger_core as core
from connectors.cards.events import Decision, DecisionCode, UnansweredError
from connectors.cards.lithic import AsaRequest, event_from
from connectors.graphql_api.context import RequestContext
from connectors.graphql_api.errors import ApiError, RejectionError
from connectors.graphql_api.objects import (
    Balance,
    Info,
    Transaction,
    account_or_none,
    balance_of,
    described,
    journal_or_none,
    request,
    transaction_or_none,
)
from connectors.graphql_api.scalars import JSON

__all__ = ["CARD_DECLINED", "CardMutation", "LithicTransactionBalance",
           "LithicTransactionInput"]

CARD_DECLINED = "card_declined"


@strawberry.input(description="A Lithic transaction webhook to book on an account.")
class LithicTransactionInput:
    """The account, the webhook, and the card program's journal and settlement account
    (the card tran codes' defaults when left out: the DEFAULT journal, CARD.SETTLEMENT)."""

    account_id: UUID
    webhook: JSON
    journal_id: UUID | None = None
    settlement_account_id: UUID | None = None


@strawberry.type(description="The transaction posted for a Lithic webhook and the account's "
                             "balance after it.")
class LithicTransactionBalance:
    """What ``postLithicTransaction`` booked."""

    transaction: Transaction
    balance: Balance


@strawberry.type(name="CardMutation", description="Card transactions from card processors.")
class CardMutation:
    """The write side of ``cards``."""

    @described("Decide a Lithic ASA request on an account: hold the amount on PENDING if "
               "the account's available(PENDING) covers it. A retried request (the same "
               "token) books nothing new and answers the same transaction.")
    async def post_lithic_transaction(self, info: Info, input: LithicTransactionInput
                                      ) -> LithicTransactionBalance | None:
        """The hold as posted and the account's balance."""
        return await post_lithic_transaction(request(info), input)


async def post_lithic_transaction(context: RequestContext,
                                  posting: LithicTransactionInput) -> LithicTransactionBalance:
    """Book the webhook through the card engine; the transaction and the balance after it."""
    event = event_from(_asa_request(posting.webhook))
    if isinstance(event, Decision):
        raise _declined(event)
    await _exist(context, posting)
    try:
        decision = await context.services.cards.decide(replace(
            event, account_id=posting.account_id, journal_id=posting.journal_id,
            settlement_account_id=posting.settlement_account_id))
    except UnansweredError as unanswered:
        raise ApiError("card_unanswered", f"no decision could be made in time: {unanswered}",
                       retriable=True) from None
    if not decision.approved:
        raise _declined(decision)
    if decision.transaction_id is None:
        raise ApiError("internal_error", f"the approval names no transaction: "
                                         f"{decision.message}")
    context.wrote()
    transaction = await transaction_or_none(context, decision.transaction_id)
    if transaction is None:
        raise ApiError("internal_error", f"transaction {decision.transaction_id} is missing "
                                         "from the read model")
    balance = await balance_of(context, posting.account_id, transaction.journal_id,
                               event.currency)
    if balance is None:
        raise ApiError("internal_error", f"account {posting.account_id} has no balance after "
                                         f"transaction {decision.transaction_id}")
    return LithicTransactionBalance(transaction=transaction, balance=balance)


def _asa_request(webhook: object) -> AsaRequest:
    """The ASA request, or the API's refusal naming the first field that is wrong. No value
    of the webhook is echoed: it is the processor's payload, not the caller's."""
    try:
        return AsaRequest.model_validate(webhook)
    except ValidationError as error:
        first = error.errors()[0]
        # A rule over several fields has no location; it names its field in the context.
        path = ".".join(str(part) for part in first["loc"]) or str(
            (first.get("ctx") or {}).get("field", ""))
        field = f"webhook.{path}" if path else "webhook"
        raise RejectionError(core.RejectionCode.COMMAND_INVALID.value,
                             f"webhook is not a Lithic ASA request: {field}: {first['msg']}",
                             field) from None


async def _exist(context: RequestContext, posting: LithicTransactionInput) -> None:
    """Refuse, with the ledger's codes, a posting naming an account or journal that does
    not exist: the engine would only see a failed booking."""
    named = [("accountId", posting.account_id),
             ("settlementAccountId", posting.settlement_account_id)]
    for field, account_id in named:
        if account_id is not None and await account_or_none(context, account_id) is None:
            raise RejectionError(core.RejectionCode.ACCOUNT_NOT_FOUND.value,
                                 f"account {account_id} does not exist", field, str(account_id))
    journal_id = posting.journal_id
    if journal_id is not None and await journal_or_none(context, journal_id) is None:
        raise RejectionError(core.RejectionCode.JOURNAL_NOT_FOUND.value,
                             f"journal {journal_id} does not exist", "journalId",
                             str(journal_id))


def _declined(decision: Decision) -> ApiError:
    # Only a failure on the ledger's side is worth retrying: the engine answers a retry of
    # any other decline (the same Lithic token) with the same decline.
    return ApiError(CARD_DECLINED, f"declined ({decision.code.value}): {decision.message}",
                    retriable=decision.code is DecisionCode.SYSTEM_ERROR,
                    decision=decision.code.value)
