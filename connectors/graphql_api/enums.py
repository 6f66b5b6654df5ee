"""The GraphQL enums of Twisp's schema. Their values are the ledger's own enum values."""

from __future__ import annotations

from enum import Enum

import strawberry

__all__ = [
    "AccountIndex",
    "AccountSetIndex",
    "AccountSetMemberType",
    "AccountStatus",
    "BalanceIndex",
    "CalculationIndex",
    "CalculationScope",
    "CurrencyDisplay",
    "DebitOrCredit",
    "EntryIndex",
    "Iso8583ProcessorType",
    "JournalIndex",
    "Layer",
    "MoneyRoundingMode",
    "OpenToBuyType",
    "ParamDataType",
    "SortOrder",
    "Status",
    "TranCodeIndex",
    "TransactionIndex",
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


@strawberry.enum(description="How Money.formatted shows the currency.")
class CurrencyDisplay(Enum):
    """The currency as its symbol ($), its ISO code (USD), or not at all."""

    SYMBOL = "SYMBOL"
    CODE = "CODE"
    NONE = "NONE"


@strawberry.enum(name="RoundingMode",
                 description="How Money.formatted rounds an amount with more than maxDigits.")
class MoneyRoundingMode(Enum):
    """Half down, half up, toward zero, away from zero."""

    HALF_DOWN = "HALF_DOWN"
    HALF_UP = "HALF_UP"
    DOWN = "DOWN"
    UP = "UP"


@strawberry.enum(description="The indexes accounts can be listed by.")
class AccountIndex(Enum):
    """Accounts in the order of one of their fields."""

    ACCOUNT_ID = "ACCOUNT_ID"
    NAME = "NAME"
    CODE = "CODE"
    STATUS = "STATUS"
    EXTERNAL_ID = "EXTERNAL_ID"


@strawberry.enum(description="The indexes account sets can be listed by.")
class AccountSetIndex(Enum):
    """Account sets in the order of one of their fields."""

    ACCOUNT_SET_ID = "ACCOUNT_SET_ID"
    NAME = "NAME"
    CODE = "CODE"


@strawberry.enum(description="GLOBAL: every account and set; LOCAL: only where attached.")
class CalculationScope(Enum):
    """Where a calculation applies."""

    GLOBAL = "GLOBAL"
    LOCAL = "LOCAL"


@strawberry.enum(description="The indexes velocity controls can be listed by.")
class VelocityControlIndex(Enum):
    """Velocity controls in the order of one of their fields."""

    VELOCITY_CONTROL_ID = "VELOCITY_CONTROL_ID"
    NAME = "NAME"


@strawberry.enum(description="The indexes velocity limits can be listed by.")
class VelocityLimitIndex(Enum):
    """Velocity limits in the order of one of their fields."""

    VELOCITY_LIMIT_ID = "VELOCITY_LIMIT_ID"
    NAME = "NAME"


@strawberry.enum(description="The indexes calculations can be listed by.")
class CalculationIndex(Enum):
    """Calculations in the order of one of their fields."""

    CALCULATION_ID = "CALCULATION_ID"
    CODE = "CODE"


@strawberry.enum(description="The indexes balances can be listed by.")
class BalanceIndex(Enum):
    """Balances of one owner."""

    ACCOUNT_ID = "ACCOUNT_ID"


@strawberry.enum(description="What a member of an account set is.")
class AccountSetMemberType(Enum):
    """An account, or another set."""

    ACCOUNT = "ACCOUNT"
    ACCOUNT_SET = "ACCOUNT_SET"


@strawberry.enum(description="The indexes journals can be listed by.")
class JournalIndex(Enum):
    """Journals in the order of one of their fields."""

    JOURNAL_ID = "JOURNAL_ID"
    NAME = "NAME"
    CODE = "CODE"
    STATUS = "STATUS"


@strawberry.enum(description="The indexes tran codes can be listed by (their latest "
                             "versions).")
class TranCodeIndex(Enum):
    """Tran codes in the order of one of their fields."""

    TRAN_CODE_ID = "TRAN_CODE_ID"
    CODE = "CODE"
    STATUS = "STATUS"


@strawberry.enum(description="The indexes transactions can be listed by.")
class TransactionIndex(Enum):
    """Transactions in the order of one of their fields."""

    TRANSACTION_ID = "TRANSACTION_ID"
    CORRELATION_ID = "CORRELATION_ID"
    EXTERNAL_ID = "EXTERNAL_ID"


@strawberry.enum(description="ASC (ascending) or DESC (descending).")
class SortOrder(Enum):
    """The order a connection lists its nodes in."""

    ASC = "ASC"
    DESC = "DESC"


@strawberry.enum(name="ISO8583ProcessorType",
                 description="The card processor whose ISO 8583 messages a config reads.")
class Iso8583ProcessorType(Enum):
    """Twisp's ISO8583ProcessorType."""

    UNSPECIFIED = "UNSPECIFIED"
    VISA_DIRECT = "VISA_DIRECT"
    GALILEO = "GALILEO"
    MARQETA = "MARQETA"
    LITHIC = "LITHIC"
    HIGHNOTE = "HIGHNOTE"
    Q2 = "Q2"
    FIRST_DATA = "FIRST_DATA"
    I2C = "I2C"


@strawberry.enum(description="The balance authorizations are judged against; this ledger "
                             "judges holds on available(PENDING) only.")
class OpenToBuyType(Enum):
    """Twisp's OpenToBuyType; the ledger accepts AVAILABLE_PENDING and refuses the others."""

    AVAILABLE_ENCUMBRANCE = "AVAILABLE_ENCUMBRANCE"
    AVAILABLE_PENDING = "AVAILABLE_PENDING"
    AVAILABLE_SETTLED = "AVAILABLE_SETTLED"
    VELOCITY_BALANCE = "VELOCITY_BALANCE"
