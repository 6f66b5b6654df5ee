"""ledger_core: the Twisp accounting model as a pure, exact library.

Models (journals, accounts, account sets, tran codes, transactions, entries, balances,
limits, cards, ISO 8583 configurations), the tran code engine (CEL), and ``apply``: a pure
function from a state view, a command and the wall time to a decision. No Kafka, no
storage, no clock, no I/O.
"""

from ledger_core.account_sets import AccountSet, AccountSetMember, MemberType
from ledger_core.accounts import Account, AccountConfig
from ledger_core.balances import Balance, LayerBalance, fold_entry, fold_into_set
from ledger_core.calculations import (
    Calculation,
    CalculationAttachment,
    CalculationConfig,
    CalculationScope,
    DimensionKey,
)
from ledger_core.cards import Card
from ledger_core.commands import (
    Command,
    PostTransaction,
    VoidTransaction,
    parse_command,
    void_transaction_id,
)
from ledger_core.decisions import Decision, Posted, Rejected
from ledger_core.enums import Direction, Enforcement, Layer, ParamType, Status
from ledger_core.expansion import compile_tran_code
from ledger_core.expressions import Activation, EnginePolicy, Expression, compile_expression
from ledger_core.iso8583_configs import Iso8583Config
from ledger_core.journals import DEFAULT_JOURNAL, DEFAULT_JOURNAL_ID, Journal, JournalConfig
from ledger_core.ledger import apply, apply_remote_entries
from ledger_core.limits import VelocityLimit
from ledger_core.memory_ledger import MemoryLedger
from ledger_core.money import CURRENCY_EXPONENTS, currency_exponent, to_units
from ledger_core.rejections import Rejection, RejectionCode
from ledger_core.tran_codes import ParamDefinition, TranCode, TranCodeEntry, TranCodeTransaction
from ledger_core.transactions import Entry, PostedTransaction, Transaction, entry_id_for
from ledger_core.velocity_controls import (
    BalanceBound,
    ControlAttachment,
    ControlLimit,
    ResolvedLimit,
    VelocityControl,
)
from ledger_core.views import LedgerView

__all__ = [
    "CURRENCY_EXPONENTS",
    "DEFAULT_JOURNAL",
    "DEFAULT_JOURNAL_ID",
    "Account",
    "AccountConfig",
    "AccountSet",
    "AccountSetMember",
    "Activation",
    "Balance",
    "BalanceBound",
    "Calculation",
    "CalculationAttachment",
    "CalculationConfig",
    "CalculationScope",
    "Card",
    "Command",
    "ControlAttachment",
    "ControlLimit",
    "Decision",
    "DimensionKey",
    "Direction",
    "Enforcement",
    "EnginePolicy",
    "Entry",
    "Expression",
    "Iso8583Config",
    "Journal",
    "JournalConfig",
    "Layer",
    "LayerBalance",
    "LedgerView",
    "MemberType",
    "MemoryLedger",
    "ParamDefinition",
    "ParamType",
    "PostTransaction",
    "Posted",
    "PostedTransaction",
    "Rejected",
    "Rejection",
    "RejectionCode",
    "ResolvedLimit",
    "Status",
    "TranCode",
    "TranCodeEntry",
    "TranCodeTransaction",
    "Transaction",
    "VelocityControl",
    "VelocityLimit",
    "VoidTransaction",
    "apply",
    "apply_remote_entries",
    "compile_expression",
    "compile_tran_code",
    "currency_exponent",
    "entry_id_for",
    "fold_entry",
    "fold_into_set",
    "parse_command",
    "to_units",
    "void_transaction_id",
]
