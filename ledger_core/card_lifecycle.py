"""A card purchase's lifecycle as data: fund, hold on PENDING, release (by void or in part),
settle.

One correlation id ties the three card steps together. The customer account is
credit-normal and carries a no-overdraft limit on available(PENDING); the card settlement
account (owed to the network) is credit-normal and the cash account debit-normal. The hold
tran code defaults its correlation id to its own transaction id (a CEL default); the
settlement takes the hold's id as a param.
"""

from __future__ import annotations

from typing import Any

from ledger_core.accounts import Account
from ledger_core.commands import PostTransaction, VoidTransaction
from ledger_core.enums import Layer
from ledger_core.limits import VelocityLimit
from ledger_core.memory_ledger import MemoryLedger
from ledger_core.tran_codes import TranCode

__all__ = [
    "ACCOUNTS",
    "CARD_HOLD",
    "CARD_RELEASE",
    "CARD_SETTLE",
    "CASH",
    "CUSTOMER",
    "CUSTOMER_NO_OVERDRAFT",
    "DEPOSIT",
    "FUND",
    "HOLD",
    "RELEASE",
    "SETTLE",
    "SETTLEMENT",
    "TRAN_CODES",
    "install",
]

CUSTOMER = Account.model_validate(
    {
        "accountId": "0b7a1c52-7a0e-4d8e-9a55-6a2f3c1d0e01",
        "name": "Card customer",
        "code": "CARD.CUSTOMER",
        "description": "A cardholder's spending account",
        "normalBalanceType": "CREDIT",
    }
)

SETTLEMENT = Account.model_validate(
    {
        "accountId": "0b7a1c52-7a0e-4d8e-9a55-6a2f3c1d0e02",
        "name": "Card settlement",
        "code": "CARD.SETTLEMENT",
        "description": "What the bank owes the card network",
        "normalBalanceType": "CREDIT",
        "config": {"enableConcurrentPosting": True},
    }
)

CASH = Account.model_validate(
    {
        "accountId": "0b7a1c52-7a0e-4d8e-9a55-6a2f3c1d0e03",
        "name": "Cash",
        "code": "CASH",
        "description": "Cash held for customers",
        "normalBalanceType": "DEBIT",
    }
)

ACCOUNTS = (CUSTOMER, SETTLEMENT, CASH)

CUSTOMER_NO_OVERDRAFT = VelocityLimit.no_overdraft(CUSTOMER.account_id, layer=Layer.PENDING)


def _two_legs(debit: str, credit: str, layer: str) -> list[dict[str, Any]]:
    return [
        {
            "accountId": debit,
            "units": "params.amount",
            "currency": "params.currency",
            "direction": "DEBIT",
            "layer": layer,
        },
        {
            "accountId": credit,
            "units": "params.amount",
            "currency": "params.currency",
            "direction": "CREDIT",
            "layer": layer,
        },
    ]


_CUSTOMER_PARAMS: list[dict[str, Any]] = [
    {"name": "account", "type": "UUID", "description": "The cardholder's account."},
    {"name": "amount", "type": "DECIMAL"},
    {"name": "currency", "type": "STRING", "default": "'USD'"},
]

# Every card tran code names its journal and settlement account by param, so one set of tran
# codes serves card programs configured with journals and settlement accounts of their own;
# the defaults are the DEFAULT journal and CARD.SETTLEMENT. The cardholder's account is
# stamped in the metadata: what a hold still holds is read from the cardholder's entries.
_CARD_PARAMS: list[dict[str, Any]] = [
    *_CUSTOMER_PARAMS,
    {"name": "settlement", "type": "UUID",
     "default": "uuid('0b7a1c52-7a0e-4d8e-9a55-6a2f3c1d0e02')",
     "description": "The card settlement account (owed to the network)."},
    {"name": "journal", "type": "UUID", "default": "uuid('00000000-0000-4000-8000-000000000001')",
     "description": "The journal the card program posts in."},
]
_CARD_TRANSACTION = {"journalId": "params.journal",
                     "metadata": "{'cardholder': string(params.account)}"}

DEPOSIT = TranCode.model_validate(
    {
        "tranCodeId": "7d0f3e58-1c4b-4a53-8f7e-2b9d6c5a4e01",
        "code": "DEPOSIT",
        "description": "Cash deposited into a customer account.",
        "params": _CUSTOMER_PARAMS,
        "entries": _two_legs("uuid('0b7a1c52-7a0e-4d8e-9a55-6a2f3c1d0e03')", "params.account",
                             "SETTLED"),
    }
)  # fmt: skip

CARD_HOLD = TranCode.model_validate(
    {
        "tranCodeId": "7d0f3e58-1c4b-4a53-8f7e-2b9d6c5a4e02",
        "code": "CARD_HOLD",
        "description": "Hold funds for a card authorization.",
        "params": [
            *_CARD_PARAMS,
            {"name": "correlationId", "type": "STRING", "default": "transaction_id"},
            {"name": "standIn", "type": "BOOLEAN", "default": "false",
             "description": "The network approved it in stand-in (an advice): held even past "
                            "the limit, and flagged so in the metadata."},
        ],
        "transaction": {
            **_CARD_TRANSACTION,
            "metadata": "{'cardholder': string(params.account), 'standIn': params.standIn}",
            "correlationId": "params.correlationId",
            "description": "'Card authorization hold'",
        },
        "entries": _two_legs("params.account", "params.settlement", "PENDING"),
    }
)  # fmt: skip

CARD_RELEASE = TranCode.model_validate(
    {
        "tranCodeId": "7d0f3e58-1c4b-4a53-8f7e-2b9d6c5a4e04",
        "code": "CARD_RELEASE",
        "description": "Release part of a card authorization hold (a partial reversal).",
        "params": [
            *_CARD_PARAMS,
            {"name": "correlationId", "type": "STRING"},
        ],
        "transaction": {
            **_CARD_TRANSACTION,
            "correlationId": "params.correlationId",
            "description": "'Card authorization partly released'",
        },
        "entries": _two_legs("params.settlement", "params.account", "PENDING"),
    }
)  # fmt: skip

# The settled amount and the hold it replaces move in one transaction, so a reader never
# sees a purchase both held and settled, or neither. ``release`` (what is still held for
# the authorization) may differ from ``amount``: a clearing above or below the authorized
# amount; it is 0 for a clearing without an authorization (a force post).
_RELEASE_LEGS: list[dict[str, Any]] = [
    {**leg, "units": "params.release", "condition": "params.release > decimal('0')"}
    for leg in _two_legs("params.settlement", "params.account", "PENDING")
]

CARD_SETTLE = TranCode.model_validate(
    {
        "tranCodeId": "7d0f3e58-1c4b-4a53-8f7e-2b9d6c5a4e03",
        "code": "CARD_SETTLE",
        "description": "Settle a card purchase, releasing what its authorization still holds.",
        "params": [
            *_CARD_PARAMS,
            {"name": "correlationId", "type": "STRING"},
            {"name": "release", "type": "DECIMAL", "default": "decimal('0')",
             "description": "What the authorization still holds and this clearing releases."},
        ],
        "transaction": {
            **_CARD_TRANSACTION,
            "correlationId": "params.correlationId",
            "description": "'Card settlement'",
        },
        "entries": [
            *_RELEASE_LEGS,
            *_two_legs("params.account", "params.settlement", "SETTLED"),
        ],
    }
)  # fmt: skip

TRAN_CODES = (DEPOSIT, CARD_HOLD, CARD_RELEASE, CARD_SETTLE)

_HOLD_ID = "c0ffee00-0000-4000-8000-000000000002"

FUND = PostTransaction.model_validate(
    {
        "transactionId": "c0ffee00-0000-4000-8000-000000000001",
        "tranCode": "DEPOSIT",
        "params": {"account": str(CUSTOMER.account_id), "amount": "100.00"},
    }
)

HOLD = PostTransaction.model_validate(
    {
        "transactionId": _HOLD_ID,
        "tranCode": "CARD_HOLD",
        "params": {"account": str(CUSTOMER.account_id), "amount": "50.00"},
    }
)

RELEASE = VoidTransaction.model_validate({"voidOf": _HOLD_ID})

SETTLE = PostTransaction.model_validate(
    {
        "transactionId": "c0ffee00-0000-4000-8000-000000000003",
        "tranCode": "CARD_SETTLE",
        "params": {
            "account": str(CUSTOMER.account_id),
            "amount": "50.00",
            "correlationId": _HOLD_ID,
        },
    }
)


def install(ledger: MemoryLedger) -> None:
    """Create the lifecycle's accounts, tran codes and the customer's no-overdraft limit."""
    for account in ACCOUNTS:
        ledger.add_account(account)
    for tran_code in TRAN_CODES:
        ledger.add_tran_code(tran_code)
    ledger.add_limit(CUSTOMER_NO_OVERDRAFT)
