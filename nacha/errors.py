"""Violations: what a file breaks, where, as values; and the exception strict mode raises."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Rule(StrEnum):
    """The stable code of each rule a file can break (docs/nacha.md lists them all)."""

    # the shape of a record and its fields
    RECORD_LENGTH = "record_length"
    RECORD_TYPE_UNKNOWN = "record_type_unknown"
    RECORD_ORDER = "record_order"
    FIELD_NOT_NUMERIC = "field_not_numeric"
    FIELD_NOT_ALPHANUMERIC = "field_not_alphanumeric"
    FIELD_NOT_BLANK = "field_not_blank"
    FIELD_REQUIRED = "field_required"
    INVALID_CONSTANT = "invalid_constant"
    INVALID_CODE = "invalid_code"
    INVALID_DATE = "invalid_date"
    INVALID_TIME = "invalid_time"
    SETTLEMENT_DATE_NOT_BLANK = "settlement_date_not_blank"
    ROUTING_CHECK_DIGIT = "routing_check_digit"
    # code tables
    UNKNOWN_SERVICE_CLASS = "unknown_service_class"
    UNKNOWN_SEC_CODE = "unknown_sec_code"
    UNKNOWN_TRANSACTION_CODE = "unknown_transaction_code"
    UNKNOWN_ADDENDA_TYPE = "unknown_addenda_type"
    UNKNOWN_RETURN_CODE = "unknown_return_code"
    UNKNOWN_CHANGE_CODE = "unknown_change_code"
    SERVICE_CLASS_MISMATCH = "service_class_mismatch"
    CREDIT_NOT_ALLOWED = "credit_not_allowed"
    AMOUNT_MUST_BE_ZERO = "amount_must_be_zero"
    AMOUNT_MUST_NOT_BE_ZERO = "amount_must_not_be_zero"
    # entries and their addenda
    TRACE_NUMBER_ORDER = "trace_number_order"
    TRACE_NUMBER_ODFI = "trace_number_odfi"
    ADDENDA_INDICATOR = "addenda_indicator"
    ADDENDA_NOT_ALLOWED = "addenda_not_allowed"
    ADDENDA_COUNT = "addenda_count"
    ADDENDA_SEQUENCE = "addenda_sequence"
    ADDENDA_TRACE_MISMATCH = "addenda_trace_mismatch"
    # controls
    BATCH_EMPTY = "batch_empty"
    BATCH_HEADER_CONTROL_MISMATCH = "batch_header_control_mismatch"
    BATCH_NUMBER_ORDER = "batch_number_order"
    ENTRY_ADDENDA_COUNT_MISMATCH = "entry_addenda_count_mismatch"
    ENTRY_HASH_MISMATCH = "entry_hash_mismatch"
    TOTAL_DEBIT_MISMATCH = "total_debit_mismatch"
    TOTAL_CREDIT_MISMATCH = "total_credit_mismatch"
    BATCH_COUNT_MISMATCH = "batch_count_mismatch"
    BLOCK_COUNT_MISMATCH = "block_count_mismatch"
    BLOCK_PADDING = "block_padding"


@dataclass(frozen=True)
class Violation:
    """One broken rule: the record (1-based line), the field and its 1-based positions."""

    record: int
    field: str
    start: int
    end: int
    rule: Rule
    value: str
    message: str

    def __str__(self) -> str:
        return (f"record {self.record}, {self.field} ({self.start}-{self.end}): "
                f"{self.rule}: {self.message} (found {self.value!r})")


class FileRejectedError(ValueError):
    """Strict mode refused the file; ``violations`` holds every rule it breaks, in file order."""

    def __init__(self, violations: tuple[Violation, ...]) -> None:
        self.violations = violations
        first = f": {violations[0]}" if violations else ""
        more = f" (and {len(violations) - 1} more)" if len(violations) > 1 else ""
        super().__init__(f"ACH file rejected{first}{more}")
