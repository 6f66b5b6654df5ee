"""The Twisp 101 tutorial's ledger as data: deposits and withdrawals through ACH tran codes.

Accounts and tran codes are written as the tutorial's GraphQL inputs (camelCase,
CEL strings) and validated into models, so the same shapes the API accepts are exercised.
Ernie and Bert hold credit-normal checking accounts; the house assets account is
debit-normal. Depositing 9.53 and withdrawing 4.28 leaves Ernie and the assets at 5.25.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from ledger_core.account_sets import AccountSet
from ledger_core.accounts import Account
from ledger_core.commands import PostTransaction
from ledger_core.journals import Journal
from ledger_core.memory_ledger import MemoryLedger
from ledger_core.tran_codes import TranCode

__all__ = [
    "ACCOUNTS",
    "ACH_CREDIT",
    "ACH_CREDIT_INPUT",
    "ACH_DEBIT",
    "ACH_DEBIT_INPUT",
    "ASSETS",
    "BERT",
    "CUSTOMERS",
    "DEPOSIT",
    "ERNIE",
    "JOURNAL",
    "POSTINGS",
    "TRAN_CODES",
    "WITHDRAWAL",
    "install",
]

JOURNAL = Journal.model_validate(
    {
        "journalId": "822cb59f-ce51-4837-8391-2af3b7a5fc51",
        "name": "Primary journal",
        "description": "The journal the tutorial posts to.",
        "code": "PRIMARY",
    }
)

ERNIE = Account.model_validate(
    {
        "accountId": "1fd1dd3e-33fe-4ef5-9d58-676ef8d306b5",
        "name": "Ernie Bishop - Checking",
        "code": "ERNIE.CHECKING",
        "description": "Ernie's checking account",
        "normalBalanceType": "CREDIT",
    }
)

BERT = Account.model_validate(
    {
        "accountId": "6c6affb0-5cf5-402b-8d84-01bfc1624a2c",
        "name": "Bert - Checking",
        "code": "BERT.CHECKING",
        "description": "Bert's checking account",
        "normalBalanceType": "CREDIT",
    }
)

# Not in Twisp's tutorial: a set of its two customers, to show a roll-up.
CUSTOMERS = AccountSet.model_validate(
    {
        "accountSetId": "c0570e25-5e70-4c5e-9a3e-2b1d4e0f7a61",
        "journalId": JOURNAL.journal_id,
        "name": "Customers",
        "code": "CUSTOMERS",
        "description": "Every customer's checking account",
        "normalBalanceType": "CREDIT",
    }
)

ASSETS = Account.model_validate(
    {
        "accountId": "78551b96-9c34-46f9-8d5f-c86e4459fcd7",
        "name": "Assets",
        "code": "ASSET",
        "description": "Zuzu's assets (e.g. cash deposits)",
        "normalBalanceType": "DEBIT",
    }
)

ACCOUNTS = (ERNIE, BERT, ASSETS)


def _ach_params(account_description: str) -> list[dict[str, Any]]:
    return [
        {"name": "account", "type": "UUID", "description": account_description},
        {"name": "amount", "type": "DECIMAL", "description": "Amount with decimal, e.g. `1.23`."},
        {"name": "effective", "type": "DATE", "description": "Effective date for transaction."},
    ]


_TRANSACTION = {
    "journalId": "uuid('822cb59f-ce51-4837-8391-2af3b7a5fc51')",
    "effective": "params.effective",
}

ACH_CREDIT_INPUT: dict[str, Any] = {
    "tranCodeId": "5b2e7c7e-3a2f-4f6b-9d1e-4a1c0c8f0a01",
    "code": "ACH_CREDIT",
    "description": "An ACH credit into a customer account.",
    "params": _ach_params("Deposit account ID."),
    "transaction": _TRANSACTION,
    "entries": [
        {
            "accountId": "uuid('78551b96-9c34-46f9-8d5f-c86e4459fcd7')",
            "units": "params.amount",
            "currency": "'USD'",
            "entryType": "'ACH_DR'",
            "direction": "DEBIT",
            "layer": "SETTLED",
        },
        {
            "accountId": "params.account",
            "units": "params.amount",
            "currency": "'USD'",
            "entryType": "'ACH_CR'",
            "direction": "CREDIT",
            "layer": "SETTLED",
        },
    ],
}

ACH_DEBIT_INPUT: dict[str, Any] = {
    "tranCodeId": "5b2e7c7e-3a2f-4f6b-9d1e-4a1c0c8f0a02",
    "code": "ACH_DEBIT",
    "description": "An ACH debit into a customer account.",
    "params": _ach_params("Withdraw account ID."),
    "transaction": _TRANSACTION,
    "entries": [
        {
            "accountId": "uuid('78551b96-9c34-46f9-8d5f-c86e4459fcd7')",
            "units": "params.amount",
            "currency": "'USD'",
            "entryType": "'ACH_CR'",
            "direction": "CREDIT",
            "layer": "SETTLED",
        },
        {
            "accountId": "params.account",
            "units": "params.amount",
            "currency": "'USD'",
            "entryType": "'ACH_DR'",
            "direction": "DEBIT",
            "layer": "SETTLED",
        },
    ],
}

ACH_CREDIT = TranCode.model_validate(ACH_CREDIT_INPUT)
ACH_DEBIT = TranCode.model_validate(ACH_DEBIT_INPUT)
TRAN_CODES = (ACH_CREDIT, ACH_DEBIT)

DEPOSIT = PostTransaction.model_validate(
    {
        "transactionId": "42847c7f-1972-4448-91b7-652c378760f4",
        "tranCode": "ACH_CREDIT",
        "params": {
            "account": "1fd1dd3e-33fe-4ef5-9d58-676ef8d306b5",
            "amount": "9.53",
            "effective": "2022-09-21",
        },
    }
)

WITHDRAWAL = PostTransaction.model_validate(
    {
        "transactionId": "39d2288d-96f9-40c7-b587-e7e75df083fa",
        "tranCode": "ACH_DEBIT",
        "params": {
            "account": "1fd1dd3e-33fe-4ef5-9d58-676ef8d306b5",
            "amount": "4.28",
            "effective": "2022-09-21",
        },
    }
)

POSTINGS = (DEPOSIT, WITHDRAWAL)

JOURNAL_ID: UUID = JOURNAL.journal_id


def install(ledger: MemoryLedger) -> None:
    """Create the tutorial's journal, accounts and tran codes in ``ledger``."""
    ledger.add_journal(JOURNAL)
    for account in ACCOUNTS:
        ledger.add_account(account)
    for tran_code in TRAN_CODES:
        ledger.add_tran_code(tran_code)
