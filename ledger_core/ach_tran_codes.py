"""The tran codes of the ACH origination workflows, and the accounts an ACH configuration names.

One tran code per workflow step, so that each step is one ledger transaction: it posts whole
or not at all, and no reader ever sees a step half done (an encumbrance released without the
settlement that replaces it, say). Every tran code takes the customer, settlement and fee
accounts and the journal as params, so one set serves every configuration; the workflow
passes its execution id, which becomes the correlation id of every transaction the
execution produces.

The customer account is credit-normal (money the bank owes its customer): a PUSH debits it,
a PULL credits it. The settlement account is debit-normal (money in transit through the
ODFI), the fee account credit-normal (fee income). Reversals write the same legs with
negated amounts on the same layer, as the ledger's voids do, so the debit and credit totals
of each layer keep counting what was booked and what was taken back.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID
from zoneinfo import available_timezones

from pydantic import Field, StringConstraints, field_validator

from ledger_core.accounts import Account
from ledger_core.base import LedgerModel
from ledger_core.journals import Journal
from ledger_core.memory_ledger import MemoryLedger
from ledger_core.tran_codes import TranCode

__all__ = [
    "ACCOUNTS",
    "ACH_FEE_REIMBURSE",
    "ACH_PULL_CANCEL",
    "ACH_PULL_CREATE",
    "ACH_PULL_RETURN_PENDING",
    "ACH_PULL_RETURN_SETTLED",
    "ACH_PULL_SETTLE",
    "ACH_PULL_SUBMIT",
    "ACH_PUSH_CANCEL",
    "ACH_PUSH_CREATE",
    "ACH_PUSH_RETURN",
    "ACH_PUSH_SUBMIT",
    "CONFIGURATION",
    "EXCEPTION",
    "FEE",
    "JOURNAL",
    "SETTLEMENT",
    "SUSPENSE",
    "TRAN_CODES",
    "AchConfiguration",
    "OdfiHeader",
    "install",
]


class OdfiHeader(LedgerModel):
    """The fields an ODFI writes into the headers of the files it generates."""

    immediate_destination: Annotated[str, StringConstraints(pattern=r"^\d{9}$")]
    immediate_destination_name: Annotated[str, StringConstraints(max_length=23)] = ""
    immediate_origin: Annotated[str, StringConstraints(pattern=r"^\d{9,10}$")]
    immediate_origin_name: Annotated[str, StringConstraints(max_length=23)] = ""
    # The batch headers' company identification when an entry's metadata names none.
    company_identification: Annotated[str, StringConstraints(pattern=r"^[ -~]{1,10}$")]


class AchConfiguration(LedgerModel):
    """One version of an ACH configuration: the journal the ACH transactions post in, the
    four accounts money moves through, the ODFI's file header fields, the RDFI decisioning
    webhook and the time zone the processor's dates are in. A version never changes once
    written; every execution and file records the ``config_id`` and ``version`` it used, so
    a later version never changes what was already booked. The decisioning webhook's signing
    secret is never part of a configuration: the process that calls the webhook is given it
    apart, so no secret lands on a topic."""

    config_id: UUID
    version: int = Field(default=1, ge=1)
    journal_id: UUID
    settlement_account_id: UUID
    suspense_account_id: UUID
    exception_account_id: UUID
    fee_account_id: UUID
    odfi: OdfiHeader
    decisioning_url: Annotated[str, StringConstraints(pattern=r"^https?://\S+$")] | None = None
    decisioning_timeout_seconds: Decimal = Field(default=Decimal(10), gt=0, le=300)
    time_zone: str = "UTC"

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        if value not in available_timezones():
            raise ValueError(f"{value!r} is not an IANA time zone")
        return value


JOURNAL = Journal.model_validate(
    {
        "journalId": "5a1c0d3e-8b7f-4c2a-9e61-3f0b2d4c6a01",
        "name": "ACH",
        "code": "ACH",
        "description": "The journal ACH origination posts in",
    }
)


def _house_account(suffix: str, code: str, name: str, description: str,
                   normal_balance_type: str) -> Account:
    # The house accounts take every execution's legs: concurrent posting keeps them from
    # serialising the whole ACH flow, as in Twisp's own set-up.
    return Account.model_validate({
        "accountId": f"5a1c0d3e-8b7f-4c2a-9e61-3f0b2d4c6a{suffix}", "code": code, "name": name,
        "description": description, "normalBalanceType": normal_balance_type,
        "config": {"enableConcurrentPosting": True}})


SETTLEMENT = _house_account("02", "ACH.SETTLEMENT", "ACH settlement",
                            "Money in transit through the ODFI", "DEBIT")
SUSPENSE = _house_account("03", "ACH.SUSPENSE", "ACH suspense",
                          "Entries whose account could not be identified", "CREDIT")
EXCEPTION = _house_account("04", "ACH.EXCEPTION", "ACH exception",
                           "Entries that broke a business rule and are returned", "CREDIT")
FEE = _house_account("05", "ACH.FEE", "ACH fee income", "Fees charged for ACH origination",
                     "CREDIT")

ACCOUNTS = (SETTLEMENT, SUSPENSE, EXCEPTION, FEE)

CONFIGURATION = AchConfiguration(
    config_id=UUID("5a1c0d3e-8b7f-4c2a-9e61-3f0b2d4c6a10"),
    journal_id=JOURNAL.journal_id,
    settlement_account_id=SETTLEMENT.account_id,
    suspense_account_id=SUSPENSE.account_id,
    exception_account_id=EXCEPTION.account_id,
    fee_account_id=FEE.account_id,
    odfi=OdfiHeader(immediate_destination="076401251", immediate_destination_name="FED RESERVE",
                    immediate_origin="026009593", immediate_origin_name="EXAMPLE BANK",
                    company_identification="1026009593"),
)

_STEP_PARAMS: list[dict[str, Any]] = [
    {"name": "account", "type": "UUID", "description": "The customer's account."},
    {"name": "settlement", "type": "UUID", "description": "The ACH settlement account."},
    {"name": "journal", "type": "UUID", "description": "The journal of the configuration."},
    {"name": "amount", "type": "DECIMAL", "description": "The entry's amount."},
    {"name": "currency", "type": "STRING", "default": "'USD'"},
    {"name": "executionId", "type": "STRING",
     "description": "The workflow execution: the correlation id of all its transactions."},
    {"name": "metadata", "type": "JSON", "default": "{}",
     "description": "What the workflow records on the transaction (task, trace number, ...)."},
]

_FEE_PARAMS: list[dict[str, Any]] = [
    {"name": "fee", "type": "UUID", "description": "The fee income account."},
    {"name": "feeAmount", "type": "DECIMAL", "default": "decimal('0')",
     "description": "The fee charged for the entry; 0 writes no fee legs."},
]


def _legs(debit: str, credit: str, layer: str, units: str = "params.amount",
          condition: str | None = None) -> list[dict[str, Any]]:
    legs: list[dict[str, Any]] = [
        {"accountId": account, "units": units, "currency": "params.currency",
         "direction": direction, "layer": layer}
        for account, direction in ((debit, "DEBIT"), (credit, "CREDIT"))
    ]
    if condition is not None:
        legs = [{**leg, "condition": condition} for leg in legs]
    return legs


# The fee is charged on SETTLED at once, in the CREATE transaction: it is earned whatever
# becomes of the entry, and only REIMBURSE_FEE gives it back.
_FEE_LEGS = _legs("params.account", "params.fee", "SETTLED", "params.feeAmount",
                  "params.feeAmount > decimal('0')")


def _tran_code(suffix: str, code: str, description: str, entries: list[dict[str, Any]],
               params: list[dict[str, Any]] = _STEP_PARAMS) -> TranCode:
    return TranCode.model_validate({
        "tranCodeId": f"5a1c0d3e-8b7f-4c2a-9e61-3f0b2d4c6b{suffix}", "code": code,
        "description": description, "params": params,
        "transaction": {"journalId": "params.journal", "correlationId": "params.executionId",
                        "description": f'"{description}"', "metadata": "params.metadata"},
        "entries": entries})


ACH_PUSH_CREATE = _tran_code(
    "01", "ACH_PUSH_CREATE", "ACH credit created: the customer's funds encumbered",
    [*_legs("params.account", "params.settlement", "ENCUMBRANCE"), *_FEE_LEGS],
    [*_STEP_PARAMS, *_FEE_PARAMS])
ACH_PUSH_SUBMIT = _tran_code(
    "02", "ACH_PUSH_SUBMIT", "ACH credit submitted: the encumbrance settled",
    [*_legs("params.account", "params.settlement", "ENCUMBRANCE", "-params.amount"),
     *_legs("params.account", "params.settlement", "SETTLED")])
ACH_PUSH_CANCEL = _tran_code(
    "03", "ACH_PUSH_CANCEL", "ACH credit canceled: the encumbrance released",
    _legs("params.account", "params.settlement", "ENCUMBRANCE", "-params.amount"))
ACH_PUSH_RETURN = _tran_code(
    "04", "ACH_PUSH_RETURN", "ACH credit returned: the funds back to the customer",
    _legs("params.settlement", "params.account", "SETTLED"))
ACH_PULL_CREATE = _tran_code(
    "05", "ACH_PULL_CREATE", "ACH debit created: the collection encumbered",
    [*_legs("params.settlement", "params.account", "ENCUMBRANCE"), *_FEE_LEGS],
    [*_STEP_PARAMS, *_FEE_PARAMS])
ACH_PULL_SUBMIT = _tran_code(
    "06", "ACH_PULL_SUBMIT", "ACH debit submitted: the collection pending",
    [*_legs("params.settlement", "params.account", "ENCUMBRANCE", "-params.amount"),
     *_legs("params.settlement", "params.account", "PENDING")])
ACH_PULL_SETTLE = _tran_code(
    "07", "ACH_PULL_SETTLE", "ACH debit settled: the collection final",
    [*_legs("params.settlement", "params.account", "PENDING", "-params.amount"),
     *_legs("params.settlement", "params.account", "SETTLED")])
ACH_PULL_CANCEL = _tran_code(
    "08", "ACH_PULL_CANCEL", "ACH debit canceled: the encumbrance released",
    _legs("params.settlement", "params.account", "ENCUMBRANCE", "-params.amount"))
ACH_PULL_RETURN_PENDING = _tran_code(
    "09", "ACH_PULL_RETURN_PENDING", "ACH debit returned before settlement",
    _legs("params.settlement", "params.account", "PENDING", "-params.amount"))
ACH_PULL_RETURN_SETTLED = _tran_code(
    "10", "ACH_PULL_RETURN_SETTLED", "ACH debit returned after settlement",
    _legs("params.settlement", "params.account", "SETTLED", "-params.amount"))
ACH_FEE_REIMBURSE = _tran_code(
    "11", "ACH_FEE_REIMBURSE", "ACH fee reimbursed",
    _legs("params.fee", "params.account", "SETTLED"),
    [{"name": "account", "type": "UUID", "description": "The customer's account."},
     {"name": "fee", "type": "UUID", "description": "The fee income account."},
     {"name": "amount", "type": "DECIMAL", "description": "The fee CREATE charged."},
     *(param for param in _STEP_PARAMS if param["name"] in {"journal", "currency",
                                                          "executionId", "metadata"})])

TRAN_CODES = (
    ACH_PUSH_CREATE, ACH_PUSH_SUBMIT, ACH_PUSH_CANCEL, ACH_PUSH_RETURN,
    ACH_PULL_CREATE, ACH_PULL_SUBMIT, ACH_PULL_SETTLE, ACH_PULL_CANCEL,
    ACH_PULL_RETURN_PENDING, ACH_PULL_RETURN_SETTLED, ACH_FEE_REIMBURSE,
)


def install(ledger: MemoryLedger) -> None:
    """Create the ACH journal, the four accounts ``CONFIGURATION`` names and the tran codes."""
    ledger.add_journal(JOURNAL)
    for account in ACCOUNTS:
        ledger.add_account(account)
    for tran_code in TRAN_CODES:
        ledger.add_tran_code(tran_code)
