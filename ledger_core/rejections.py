"""Every reason the ledger refuses a command, declared in precedence order.

Validation checks the rules in this order and answers with the first one broken, so a
command always gets the same answer for the same state. Each code is named after the rule
it enforces, and each Rejection carries a message naming the offending field and value.
"""

from __future__ import annotations

from enum import StrEnum

from ledger_core.base import Record

__all__ = ["Rejection", "RejectionCode"]


class RejectionCode(StrEnum):
    """Why a command was refused; declaration order is precedence order.

    The codes up to ``velocity_limit_exceeded`` are the answers of ``apply``; those after it
    belong to the runtime (a record it could not apply) and to catalog changes.
    """

    # The runtime could not decode the command at all; nothing else can be checked.
    COMMAND_INVALID = "command_invalid"
    # Bounds on untrusted input (ledger_core.input_bounds), checked before any rule: text a
    # record cannot carry, codes and names that would mislead an operator, JSON too deep to
    # walk.
    TEXT_NOT_VALID_UNICODE = "text_not_valid_unicode"
    TEXT_HAS_CONTROL_CHARACTERS = "text_has_control_characters"
    TEXT_TOO_LONG = "text_too_long"
    JSON_TOO_DEEP = "json_too_deep"
    JSON_TOO_LARGE = "json_too_large"
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
    # Records no client wrote (legs, catalog records, registry messages) that could not be
    # applied are quarantined with one of these, on the dead-letters topic.
    RECORD_NOT_DECODABLE = "record_not_decodable"
    LEG_ACCOUNT_NOT_FOUND = "leg_account_not_found"
    LEG_ACCOUNT_NOT_OWNED = "leg_account_not_owned"
    RECORD_NOT_VALID = "record_not_valid"
    # The decision is sound but one of its records is larger than its topic accepts.
    RECORD_TOO_LARGE = "record_too_large"
    # The ledger failed on this record (a defect): the record is answered, the partition
    # moves on, and the error is logged with the record's position.
    PROCESSING_FAILED = "processing_failed"
    # Catalog changes (journals, accounts, tran codes, limits, cards, ISO 8583
    # configurations) are decided one at a time.
    CATALOG_COMMAND_INVALID = "catalog_command_invalid"
    JOURNAL_ID_DUPLICATE = "journal_id_duplicate"
    ACCOUNT_ID_DUPLICATE = "account_id_duplicate"
    ACCOUNT_CODE_DUPLICATE = "account_code_duplicate"
    TRAN_CODE_DUPLICATE = "tran_code_duplicate"
    CEL_EXPRESSION_TOO_COSTLY = "cel_expression_too_costly"
    CEL_EXPRESSION_TOO_COMPLEX = "cel_expression_too_complex"
    LIMIT_ID_DUPLICATE = "limit_id_duplicate"
    # A card maps one PAN (by its hash) and one processor token to one account.
    CARD_ID_DUPLICATE = "card_id_duplicate"
    CARD_PAN_DUPLICATE = "card_pan_duplicate"
    CARD_TOKEN_DUPLICATE = "card_token_duplicate"
    CARD_NOT_FOUND = "card_not_found"
    # An ISO 8583 configuration is kept, LOCKED, once deleted.
    ISO8583_CONFIG_ID_DUPLICATE = "iso8583_config_id_duplicate"
    ISO8583_CONFIG_NOT_FOUND = "iso8583_config_not_found"
    ISO8583_CONFIG_LOCKED = "iso8583_config_locked"
    # Account sets: one journal each, membership a graph without cycles.
    ACCOUNT_SET_ID_DUPLICATE = "account_set_id_duplicate"
    ACCOUNT_SET_CODE_DUPLICATE = "account_set_code_duplicate"
    ACCOUNT_SET_NOT_FOUND = "account_set_not_found"
    ACCOUNT_SET_LOCKED = "account_set_locked"
    ACCOUNT_SET_JOURNAL_MISMATCH = "account_set_journal_mismatch"
    ACCOUNT_SET_CYCLE = "account_set_cycle"
    ACCOUNT_SET_MEMBER_NOT_FOUND = "account_set_member_not_found"
    # Calculations: a code each; a LOCAL one is detached everywhere before it is deleted.
    CALCULATION_ID_DUPLICATE = "calculation_id_duplicate"
    CALCULATION_CODE_DUPLICATE = "calculation_code_duplicate"
    CALCULATION_NOT_FOUND = "calculation_not_found"
    CALCULATION_LOCKED = "calculation_locked"
    CALCULATION_ATTACHED = "calculation_attached"
    CALCULATION_ATTACHMENT_NOT_FOUND = "calculation_attachment_not_found"
    # Velocity controls group limits; an attachment's params must resolve every bound.
    VELOCITY_LIMIT_ID_DUPLICATE = "velocity_limit_id_duplicate"
    VELOCITY_LIMIT_NOT_FOUND = "velocity_limit_not_found"
    VELOCITY_LIMIT_LOCKED = "velocity_limit_locked"
    VELOCITY_LIMIT_SHAPE_UNSUPPORTED = "velocity_limit_shape_unsupported"
    VELOCITY_CONTROL_ID_DUPLICATE = "velocity_control_id_duplicate"
    VELOCITY_CONTROL_NOT_FOUND = "velocity_control_not_found"
    VELOCITY_CONTROL_LOCKED = "velocity_control_locked"
    VELOCITY_CONTROL_PARAMS_INVALID = "velocity_control_params_invalid"
    VELOCITY_CONTROL_ATTACHMENT_NOT_FOUND = "velocity_control_attachment_not_found"


class Rejection(Record, frozen=True, kw_only=True):
    """One broken rule: its code, a readable message, and the offending field and value;
    ``detail`` holds the facts a client may act on (a velocity breach's limit, account,
    layer and balances), as text."""

    code: RejectionCode
    message: str
    field: str | None = None
    value: str | None = None
    detail: dict[str, str] | None = None
