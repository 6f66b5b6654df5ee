"""RDFI decisions: what an entry of a received ACH file posts, as pure functions of the
entry, the decisioning webhook's answer (or why there is none), the configuration and the
day. No I/O, no clock.

Each decision is one ledger transaction on Twisp's layers (docs/ach.md, "RDFI
processing"). Amount A; a credit entry brings money in for the customer, a debit takes it
out. The settlement account is debit-normal, the customer, suspense and exception accounts
credit-normal:

=============  ========================  =================================================
tran code      when                      legs (credit; a debit has each pair the other way)
=============  ========================  =================================================
``_CREATE``    SETTLE before its date    ENCUMBRANCE: DR settlement A / CR customer A
``_SETTLE``    SETTLE on or after it     SETTLED: DR settlement A / CR customer A, and the
                                         CREATE's encumbrance reversed when there is one
``_ROUTE``     RETURN, suspense or       SETTLED: DR settlement A / CR exception or suspense
               exception                 A, and an encumbrance reversed when there is one
=============  ========================  =================================================

An entry settled on its date posts one transaction: an encumbrance booked and released in
the same transaction would hold nothing. Every transaction of an entry has an id derived
from the file id, the trace number and its step, so a file processed again posts nothing
twice (the ledger answers ``transaction_id_duplicate``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid5

from ledger_core.ach_tran_codes import _STEP_PARAMS, AchConfiguration, _legs, _tran_code
from ledger_core.base import LedgerModel
from ledger_core.commands import PostTransaction
from ledger_core.rejections import RejectionCode

__all__ = [
    "RDFI_TRAN_CODES",
    "EntryKind",
    "Outcome",
    "Posting",
    "RdfiDecision",
    "Reason",
    "ReceivedEntry",
    "ReturnAnswer",
    "SettleAnswer",
    "decide_answer",
    "decide_due",
    "decide_return",
    "entry_execution_id",
    "posting_for",
    "posts_to_customer",
    "rdfi_file_id",
    "reroute",
    "settle_encumbered",
]

# The namespace of the ids derived here (file ids, execution ids, transaction ids).
_NAMESPACE = UUID("5a1c0d3e-8b7f-4c2a-9e61-3f0b2d4c6c00")


class EntryKind(StrEnum):
    """What a received entry is, by its addenda: a forward entry for a customer of the bank,
    a return (addenda 99) or a notification of change (addenda 98) of one the bank sent."""

    FORWARD = "FORWARD"
    RETURN = "RETURN"
    NOC = "NOC"


class Outcome(StrEnum):
    """What became of a received entry."""

    SETTLED = "SETTLED"          # on the customer's SETTLED layer
    ENCUMBERED = "ENCUMBERED"    # on the customer's ENCUMBRANCE layer until its date
    RETURNED = "RETURNED"        # the webhook returned it: through the exception account
    EXCEPTION = "EXCEPTION"      # the ledger refused the customer's posting: exception account
    SUSPENDED = "SUSPENDED"      # no usable decision: the suspense account
    RETURN_MATCHED = "RETURN_MATCHED"  # a return: its execution ran RETURN
    NOTIFIED = "NOTIFIED"        # a NOC: recorded, no money
    NONMONETARY = "NONMONETARY"  # a prenote or zero-dollar entry: no money


class Reason(StrEnum):
    """Why an entry went to the suspense or the exception account."""

    DECISIONING_NOT_CONFIGURED = "decisioning_not_configured"
    WEBHOOK_TIMEOUT = "webhook_timeout"
    WEBHOOK_FAILED = "webhook_failed"            # no answer: a connection error, a non-2xx
    ANSWER_SIGNATURE_INVALID = "answer_signature_invalid"
    ANSWER_INVALID = "answer_invalid"            # not a SETTLE or RETURN we understand
    ACCOUNT_NOT_CUSTOMER = "account_not_customer"  # the answer named a house account
    ACCOUNT_NOT_FOUND = "account_not_found"      # the ledger has no such account
    POSTING_REJECTED = "posting_rejected"        # the ledger refused the customer's posting
    RETURN_UNMATCHED = "return_unmatched"        # no execution has the original trace number
    RETURN_REFUSED = "return_refused"            # the execution refused the RETURN task


@dataclass(frozen=True)
class ReceivedEntry:
    """The part of a received entry the decisions need. ``credit`` is whether money comes
    in to the bank (a forward credit, or the return of a debit the bank sent)."""

    trace_number: str
    kind: EntryKind
    transaction_code: int
    credit: bool
    amount_cents: int
    effective_date: date

    @property
    def amount(self) -> Decimal:
        """The amount in dollars, exactly."""
        return Decimal(self.amount_cents).scaleb(-2)


class RdfiDecision(LedgerModel):
    """What an entry posts next, or posted: the outcome, the customer account it names (if
    any), the return code (RETURNED, EXCEPTION), why (SUSPENDED, EXCEPTION), and whether a
    CREATE's encumbrance stands on the customer account when it posts."""

    outcome: Outcome
    account_id: UUID | None = None
    return_code: str | None = None
    reason: Reason | None = None
    # The ledger's rejection code behind an EXCEPTION or a SUSPENDED account_not_found.
    rejection: str | None = None
    encumbered: bool = False


@dataclass(frozen=True)
class Posting:
    """One ledger transaction of an entry and the account whose partition decides it."""

    command: PostTransaction
    owner: UUID


def rdfi_file_id(config_id: UUID, *identity: str) -> UUID:
    """A received file's id, from what identifies it under the configuration (the header
    fields NACHA tells files apart by): the same file received again has the same id, so
    its entries are recognised as processed."""
    return uuid5(_NAMESPACE, "ach-file:" + "|".join((str(config_id), *identity)))


def entry_execution_id(file_id: UUID, trace_number: str) -> UUID:
    """The execution id of a received entry: the webhook's dedupe key and the correlation
    id of the entry's transactions."""
    return uuid5(file_id, f"rdfi:{trace_number}")


def _transaction_id(execution_id: UUID, step: str) -> UUID:
    return uuid5(execution_id, f"rdfi:{step}")


# -- the webhook's answers, once validated at the edge -------------------------------------

@dataclass(frozen=True)
class SettleAnswer:
    """Settle the entry to the customer account."""

    account_id: UUID


@dataclass(frozen=True)
class ReturnAnswer:
    """Return the entry with a NACHA return code; the account, if named, is recorded."""

    return_code: str
    account_id: UUID | None = None


# -- decisions ---------------------------------------------------------------------------

def decide_due(account_id: UUID, effective_date: date, today: date) -> RdfiDecision:
    """A SETTLE for ``account_id``: settled once the entry's date has come, else encumbered
    until it does."""
    if effective_date <= today:
        return RdfiDecision(outcome=Outcome.SETTLED, account_id=account_id)
    return RdfiDecision(outcome=Outcome.ENCUMBERED, account_id=account_id)


def settle_encumbered(decision: RdfiDecision, effective_date: date,
                      today: date) -> RdfiDecision | None:
    """The settlement of an ENCUMBERED entry once its date has come (None before): the
    encumbrance reversed and the amount on SETTLED, in one transaction."""
    if decision.outcome is not Outcome.ENCUMBERED or effective_date > today:
        return None
    return RdfiDecision(outcome=Outcome.SETTLED, account_id=decision.account_id,
                        encumbered=True)


def decide_answer(answer: SettleAnswer | ReturnAnswer | Reason, entry: ReceivedEntry,
                  configuration: AchConfiguration, today: date) -> RdfiDecision:
    """A forward entry's decision from the webhook's answer, or from why there is none."""
    if isinstance(answer, Reason):
        return RdfiDecision(outcome=Outcome.SUSPENDED, reason=answer)
    if answer.account_id is not None and answer.account_id in _house_accounts(configuration):
        return RdfiDecision(outcome=Outcome.SUSPENDED, reason=Reason.ACCOUNT_NOT_CUSTOMER)
    if isinstance(answer, ReturnAnswer):
        return RdfiDecision(outcome=Outcome.RETURNED, account_id=answer.account_id,
                            return_code=answer.return_code)
    return decide_due(answer.account_id, entry.effective_date, today)


def decide_return(matched: bool, refusal: str | None = None) -> RdfiDecision:
    """A return's decision: matched to an execution that ran RETURN, else to suspense."""
    if matched and refusal is None:
        return RdfiDecision(outcome=Outcome.RETURN_MATCHED)
    reason = Reason.RETURN_UNMATCHED if not matched else Reason.RETURN_REFUSED
    return RdfiDecision(outcome=Outcome.SUSPENDED, reason=reason, rejection=refusal)


def reroute(decision: RdfiDecision, rejection: str) -> RdfiDecision:
    """Where an entry goes when the ledger refused the posting to its customer account: to
    suspense when the account does not exist, else to the exception account with the return
    it calls for (R16 for a locked account, R01 for a limit, as Twisp returns them). The
    encumbrance, if any, still stands: the refused posting took nothing back."""
    if rejection == RejectionCode.ACCOUNT_NOT_FOUND:
        return RdfiDecision(outcome=Outcome.SUSPENDED, reason=Reason.ACCOUNT_NOT_FOUND,
                            rejection=rejection)
    code = "R16" if rejection == RejectionCode.ACCOUNT_LOCKED else "R01"
    return RdfiDecision(outcome=Outcome.EXCEPTION, account_id=decision.account_id,
                        return_code=code, reason=Reason.POSTING_REJECTED, rejection=rejection,
                        encumbered=decision.encumbered)


def posts_to_customer(decision: RdfiDecision) -> bool:
    """Whether the decision's posting is judged by the customer account's rules (and a
    refusal of it is rerouted)."""
    return decision.outcome in {Outcome.SETTLED, Outcome.ENCUMBERED}


def posting_for(entry: ReceivedEntry, decision: RdfiDecision, *, file_id: UUID,
                configuration: AchConfiguration) -> Posting | None:
    """The one transaction ``decision`` posts for the entry; None when it moves no money."""
    if entry.amount_cents == 0 or decision.outcome in {
            Outcome.RETURN_MATCHED, Outcome.NOTIFIED, Outcome.NONMONETARY}:
        return None
    execution_id = entry_execution_id(file_id, entry.trace_number)
    side = "CREDIT" if entry.credit else "DEBIT"
    metadata: dict[str, Any] = {"fileId": str(file_id), "traceNumber": entry.trace_number,
                                "transactionCode": entry.transaction_code,
                                "effectiveDate": entry.effective_date.isoformat(),
                                "outcome": decision.outcome.value,
                                "configId": str(configuration.config_id),
                                "configVersion": configuration.version}
    for name, value in (("returnCode", decision.return_code), ("reason", decision.reason),
                        ("rejection", decision.rejection)):
        if value is not None:
            metadata[name] = str(value)
    params: dict[str, Any] = {"settlement": str(configuration.settlement_account_id),
                              "journal": str(configuration.journal_id),
                              "amount": str(entry.amount), "executionId": str(execution_id),
                              "metadata": metadata}
    if decision.outcome in {Outcome.SETTLED, Outcome.ENCUMBERED}:
        assert decision.account_id is not None
        step = "SETTLE" if decision.outcome is Outcome.SETTLED else "CREATE"
        params["account"] = str(decision.account_id)
        if step == "SETTLE":
            params["encumbered"] = decision.encumbered
        owner = decision.account_id
    else:
        step = "ROUTE"
        house = (configuration.suspense_account_id if decision.outcome is Outcome.SUSPENDED
                 else configuration.exception_account_id)
        # The customer's leg (the encumbrance taken back) is folded onto it wherever it
        # lives; the house account decides, so a locked customer cannot strand the entry.
        params["account"] = str(decision.account_id if decision.encumbered else house)
        params["house"] = str(house)
        params["encumbered"] = decision.encumbered
        owner = house
    command = PostTransaction(transaction_id=_transaction_id(execution_id, step),
                              tran_code=f"ACH_RDFI_{side}_{step}", params=params)
    return Posting(command, owner)


def _house_accounts(configuration: AchConfiguration) -> set[UUID]:
    return {configuration.settlement_account_id, configuration.suspense_account_id,
            configuration.exception_account_id, configuration.fee_account_id}


# -- tran codes ------------------------------------------------------------------------------

_ENCUMBERED = "params.encumbered"
_ENCUMBERED_PARAM = {"name": "encumbered", "type": "BOOLEAN", "default": "false",
                     "description": "Whether a CREATE's encumbrance stands, to reverse."}
_HOUSE_PARAM = {"name": "house", "type": "UUID",
                "description": "The suspense or exception account the entry goes to."}


def _rdfi_codes(credit: bool, suffix: int) -> tuple[Any, ...]:
    # A credit brings money in: DR settlement / CR customer; a debit the other way.
    def legs(customer: str, layer: str, units: str = "params.amount",
             condition: str | None = None) -> list[dict[str, Any]]:
        pair = ("params.settlement", customer) if credit else (customer, "params.settlement")
        return _legs(*pair, layer, units, condition)

    side = "CREDIT" if credit else "DEBIT"
    word = "credit" if credit else "debit"
    reversal = legs("params.account", "ENCUMBRANCE", "-params.amount", _ENCUMBERED)
    return (
        _tran_code(f"{suffix}", f"ACH_RDFI_{side}_CREATE",
                   f"ACH {word} received: encumbered until its date",
                   legs("params.account", "ENCUMBRANCE")),
        _tran_code(f"{suffix + 1}", f"ACH_RDFI_{side}_SETTLE",
                   f"ACH {word} received: settled to the customer",
                   [*reversal, *legs("params.account", "SETTLED")],
                   [*_STEP_PARAMS, _ENCUMBERED_PARAM]),
        _tran_code(f"{suffix + 2}", f"ACH_RDFI_{side}_ROUTE",
                   f"ACH {word} received: to the suspense or exception account",
                   [*reversal, *legs("params.house", "SETTLED")],
                   [*_STEP_PARAMS, _HOUSE_PARAM, _ENCUMBERED_PARAM]),
    )


RDFI_TRAN_CODES = (*_rdfi_codes(True, 21), *_rdfi_codes(False, 24))
