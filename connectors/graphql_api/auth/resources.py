"""Which action on which resource each field of the schema is.

- A write field (a mutation) is its action on its resource: ``createAccount`` is INSERT on
  ``financial.Account``; its answer (the record as written) comes with the write.
- Any other field whose type is a ledger record (or a page of them) reads it: SELECT on
  that record's resource, wherever it sits (``account``, ``Balance.account``,
  ``Transaction.entries``, ...).
- ``Query.auth``, ``Mutation.auth``, ``Query.iso8583``, ``Mutation.iso8583``,
  ``Mutation.cards``, ``Query.ach``, ``Mutation.ach``, ``Mutation.workflow`` and
  ``Mutation.queries`` only group fields.
"""

from __future__ import annotations

from connectors.graphql_api.auth.policies import Action

__all__ = ["GROUPS", "READS", "WRITES", "read_resource"]

ACCOUNT = "financial.Account"
ACCOUNT_SET = "financial.AccountSet"
BALANCE = "financial.Balance"
CALCULATION = "financial.Calculation"
ENTRY = "financial.Entry"
JOURNAL = "financial.Journal"
TRAN_CODE = "financial.TranCode"
TRANSACTION = "financial.Transaction"
VELOCITY_CONTROL = "financial.VelocityControl"
VELOCITY_LIMIT = "financial.VelocityLimit"
CLIENT = "system.Client"
ISO8583_CONFIG = "iso8583.Config"
ACH_CONFIGURATION = "ach.Configuration"
ACH_FILE = "ach.File"
WORKFLOW_EXECUTION = "workflow.Execution"

WRITES: dict[tuple[str, str], tuple[Action, str]] = {
    ("Mutation", "createJournal"): (Action.INSERT, JOURNAL),
    ("Mutation", "createAccount"): (Action.INSERT, ACCOUNT),
    ("Mutation", "updateAccount"): (Action.UPDATE, ACCOUNT),
    ("Mutation", "createAccountSet"): (Action.INSERT, ACCOUNT_SET),
    ("Mutation", "updateAccountSet"): (Action.UPDATE, ACCOUNT_SET),
    # Membership is part of the set's record.
    ("Mutation", "addToAccountSet"): (Action.UPDATE, ACCOUNT_SET),
    ("Mutation", "removeFromAccountSet"): (Action.UPDATE, ACCOUNT_SET),
    ("Mutation", "deleteAccountSet"): (Action.DELETE, ACCOUNT_SET),
    ("Mutation", "createTranCode"): (Action.INSERT, TRAN_CODE),
    ("Mutation", "createCalculation"): (Action.INSERT, CALCULATION),
    ("Mutation", "deleteCalculation"): (Action.DELETE, CALCULATION),
    # Attachments are part of the calculation's record.
    ("Mutation", "attachCalculation"): (Action.UPDATE, CALCULATION),
    ("Mutation", "detachCalculation"): (Action.UPDATE, CALCULATION),
    ("Mutation", "createVelocityLimit"): (Action.INSERT, VELOCITY_LIMIT),
    ("Mutation", "updateVelocityLimit"): (Action.UPDATE, VELOCITY_LIMIT),
    ("Mutation", "deleteVelocityLimit"): (Action.DELETE, VELOCITY_LIMIT),
    ("Mutation", "createVelocityControl"): (Action.INSERT, VELOCITY_CONTROL),
    ("Mutation", "updateVelocityControl"): (Action.UPDATE, VELOCITY_CONTROL),
    ("Mutation", "deleteVelocityControl"): (Action.DELETE, VELOCITY_CONTROL),
    # A control's limits and attachments are part of its record.
    ("Mutation", "addLimitToControl"): (Action.UPDATE, VELOCITY_CONTROL),
    ("Mutation", "removeLimitFromControl"): (Action.UPDATE, VELOCITY_CONTROL),
    ("Mutation", "removeAllLimitsFromControl"): (Action.UPDATE, VELOCITY_CONTROL),
    ("Mutation", "attachVelocityControl"): (Action.UPDATE, VELOCITY_CONTROL),
    ("Mutation", "detachVelocityControl"): (Action.UPDATE, VELOCITY_CONTROL),
    ("Mutation", "postTransaction"): (Action.INSERT, TRANSACTION),
    # A void posts the reversing transaction and marks the original voided.
    ("Mutation", "voidTransaction"): (Action.UPDATE, TRANSACTION),
    ("AuthMutation", "createClient"): (Action.INSERT, CLIENT),
    ("AuthMutation", "updateClient"): (Action.UPDATE, CLIENT),
    ("AuthMutation", "deleteClient"): (Action.DELETE, CLIENT),
    ("ISO8583Mutation", "createConfig"): (Action.INSERT, ISO8583_CONFIG),
    ("ISO8583Mutation", "updateConfig"): (Action.UPDATE, ISO8583_CONFIG),
    ("ISO8583Mutation", "deleteConfig"): (Action.DELETE, ISO8583_CONFIG),
    # A Lithic authorization posts a hold; its answer also reads the account's balance.
    ("CardMutation", "postLithicTransaction"): (Action.INSERT, TRANSACTION),
    ("ACHMutation", "createConfiguration"): (Action.INSERT, ACH_CONFIGURATION),
    ("ACHMutation", "generateFile"): (Action.INSERT, ACH_FILE),
    ("ACHMutation", "processFile"): (Action.INSERT, ACH_FILE),
    # A task posts its transaction and moves the execution on.
    ("WorkflowMutation", "execute"): (Action.UPDATE, WORKFLOW_EXECUTION),
}

# GraphQL type name -> the resource a field of that type reads.
READS: dict[str, str] = {
    "Account": ACCOUNT,
    "AccountSet": ACCOUNT_SET,
    "Balance": BALANCE,
    "Calculation": CALCULATION,
    "CalculationConnection": CALCULATION,
    "AttachedCalculation": CALCULATION,
    "Entry": ENTRY,
    "EntryConnection": ENTRY,
    "Journal": JOURNAL,
    "TranCode": TRAN_CODE,
    "Transaction": TRANSACTION,
    "VelocityControl": VELOCITY_CONTROL,
    "ResolvedVelocityControl": VELOCITY_CONTROL,
    "ResolvedVelocityControlConnection": VELOCITY_CONTROL,
    "VelocityControlConnection": VELOCITY_CONTROL,
    "VelocityLimit": VELOCITY_LIMIT,
    "VelocityLimitConnection": VELOCITY_LIMIT,
    # what an owner has spent of a limit is read from its balance
    "VelocityBalance": BALANCE,
    # the list queries' pages (``lists.Connection``): each node is checked
    "AccountConnection": ACCOUNT,
    "BalanceConnection": BALANCE,
    "AccountSetConnection": ACCOUNT_SET,
    # a set's members (accounts and sets) are read as part of the set
    "AccountSetMemberConnection": ACCOUNT_SET,
    "JournalConnection": JOURNAL,
    "TranCodeConnection": TRAN_CODE,
    "TransactionConnection": TRANSACTION,
    "Client": CLIENT,
    "ISO8583Config": ISO8583_CONFIG,
    "ISO8583ConfigConnection": ISO8583_CONFIG,
    "ACHConfiguration": ACH_CONFIGURATION,
    "ACHFile": ACH_FILE,
}

GROUPS = frozenset({("Query", "auth"), ("Mutation", "auth"), ("Mutation", "queries"),
                    ("Query", "iso8583"), ("Mutation", "iso8583"), ("Mutation", "cards"),
                    ("Query", "ach"), ("Mutation", "ach"), ("Mutation", "workflow")})


def read_resource(parent: str, field: str, type_name: str) -> str | None:
    """The resource a field reads, or None (a write, a group, or a plain value)."""
    if (parent, field) in WRITES or (parent, field) in GROUPS:
        return None
    return READS.get(type_name)
