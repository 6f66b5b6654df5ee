"""The GraphQL enums of Twisp's schema. Their values are the ledger's own enum values."""

from __future__ import annotations

from enum import Enum

import strawberry

__all__ = [
    "AccountStatus",
    "DebitOrCredit",
    "EntryIndex",
    "Layer",
    "ParamDataType",
    "SortOrder",
    "Status",
    "VelocityEnforcementAction",
]


@strawberry.enum(description="Debit or credit: the side of an entry, or of a normal balance.")
class DebitOrCredit(Enum):
    """The side of an entry, and the side on which an account's balance grows."""

    DEBIT = "DEBIT"
    CREDIT = "CREDIT"


@strawberry.enum(description="SETTLED, PENDING or ENCUMBRANCE.")
class Layer(Enum):
    """The lifecycle layer of an entry or a balance."""

    SETTLED = "SETTLED"
    PENDING = "PENDING"
    ENCUMBRANCE = "ENCUMBRANCE"


@strawberry.enum(description="ACTIVE, LOCKED (refuses postings) or INACTIVE.")
class Status(Enum):
    """The status of a journal or tran code, and of an account on input."""

    ACTIVE = "ACTIVE"
    LOCKED = "LOCKED"
    INACTIVE = "INACTIVE"


@strawberry.enum(description="ACTIVE, LOCKED (refuses postings) or INACTIVE.")
class AccountStatus(Enum):
    """The status of an account on output."""

    ACTIVE = "ACTIVE"
    LOCKED = "LOCKED"
    INACTIVE = "INACTIVE"


@strawberry.enum(description="The declared type of a tran code parameter.")
class ParamDataType(Enum):
    """The declared type of a tran code parameter."""

    STRING = "STRING"
    INTEGER = "INTEGER"
    DECIMAL = "DECIMAL"
    BOOLEAN = "BOOLEAN"
    UUID = "UUID"
    DATE = "DATE"
    TIMESTAMP = "TIMESTAMP"
    JSON = "JSON"


@strawberry.enum(description="What a breached velocity limit does to a posting.")
class VelocityEnforcementAction(Enum):
    """The enforcement a posting may ask for instead of a limit's own."""

    REJECT = "REJECT"
    WARN = "WARN"


@strawberry.enum(description="The indexes entries can be read by.")
class EntryIndex(Enum):
    """The indexes entries can be read by."""

    ENTRY_ID = "ENTRY_ID"
    TRANSACTION_ID = "TRANSACTION_ID"


@strawberry.enum(description="ASC (ascending) or DESC (descending).")
class SortOrder(Enum):
    """The order a connection lists its nodes in."""

    ASC = "ASC"
    DESC = "DESC"
