"""Every reason the ledger refuses a command, declared in precedence order.

Validation checks the rules in this order and answers with the first one broken, so a
command always gets the same answer for the same state. Each code is named after the rule
it enforces, and each Rejection carries a message naming the offending field and value.
"""

from __future__ import annotations

from enum import StrEnum

from ledger_core.base import LedgerModel

__all__ = ["Rejection", "RejectionCode"]


class RejectionCode(StrEnum):
    """Why a command was refused; declaration order is precedence order."""

    # The runtime could not decode the command at all; nothing else can be checked.
    COMMAND_INVALID = "command_invalid"
    # A re-sent command gets this answer whatever changed since: ids are idempotency keys.
    TRANSACTION_ID_DUPLICATE = "transaction_id_duplicate"
    TRAN_CODE_NOT_FOUND = "tran_code_not_found"
    TRAN_CODE_VERSION_NOT_FOUND = "tran_code_version_not_found"
    TRAN_CODE_LOCKED = "tran_code_locked"
    PARAM_MISSING = "param_missing"
    PARAM_TYPE_INVALID = "param_type_invalid"
    PARAM_UNKNOWN = "param_unknown"
    CEL_EVALUATION_FAILED = "cel_evaluation_failed"
    # Void-only rules; a posting never meets them and a void never meets the four above.
    VOID_TARGET_NOT_FOUND = "void_target_not_found"
    VOID_OF_VOID = "void_of_void"
    TRANSACTION_ALREADY_VOIDED = "transaction_already_voided"
    JOURNAL_NOT_FOUND = "journal_not_found"
    JOURNAL_LOCKED = "journal_locked"
    ACCOUNT_NOT_FOUND = "account_not_found"
    ACCOUNT_LOCKED = "account_locked"
    CURRENCY_INVALID = "currency_invalid"
    AMOUNT_INVALID = "amount_invalid"
    ENTRIES_MUST_BALANCE = "entries_must_balance"
    LIMITED_ACCOUNT_MUST_BE_LOCAL = "limited_account_must_be_local"
    VELOCITY_LIMIT_EXCEEDED = "velocity_limit_exceeded"
    # Catalog changes (journals, accounts, tran codes, limits) are decided one at a time.
    CATALOG_COMMAND_INVALID = "catalog_command_invalid"
    JOURNAL_ID_DUPLICATE = "journal_id_duplicate"
    ACCOUNT_ID_DUPLICATE = "account_id_duplicate"
    ACCOUNT_CODE_DUPLICATE = "account_code_duplicate"
    TRAN_CODE_DUPLICATE = "tran_code_duplicate"
    CEL_EXPRESSION_TOO_COSTLY = "cel_expression_too_costly"
    LIMIT_ID_DUPLICATE = "limit_id_duplicate"


class Rejection(LedgerModel):
    """One broken rule: its code, a readable message, and the offending field and value."""

    code: RejectionCode
    message: str
    field: str | None = None
    value: str | None = None
