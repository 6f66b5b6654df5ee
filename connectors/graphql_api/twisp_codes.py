"""Twisp's error codes, and which of them each of the ledger's rule codes answers with.

A client written against Twisp reads ``extensions.code`` (``UNIQUE_CONSTRAINT_VIOLATION``,
``TRAN_CODE_ERROR``, ...), a coarse kind of failure. The ledger's rule code, which names
the exact rule a request broke (``transaction_id_duplicate``, ``entries_must_balance``),
goes beside it as ``extensions.rule``. Each rule the ledger and the API know is listed
below; the rules of the connectors' namespaces (ACH, auth) are told by their suffix.
"""

from __future__ import annotations

from ledger_core import RejectionCode

__all__ = ["TWISP_CODES", "twisp_code"]

# Every code of Twisp's error reference, and the velocity rejection of its examples.
TWISP_CODES = frozenset({
    "ACCESS_DENIED", "ALREADY_EXISTS", "BAD_REQUEST", "BALANCE_VELOCITY_EXCEEDED",
    "CEL_EVALUATION_ERROR", "DATE_PARSE_ERROR", "DEPENDENCY_ERROR", "ENUM_PARSE_ERROR",
    "FOREIGN_KEY_VIOLATION", "GRAPHQL_PARSE_FAILED", "GRAPHQL_VALIDATION_FAILED",
    "INTERNAL_SERVER_ERROR", "INTERRUPTED", "JSON_PARSE_ERROR", "NOT_FOUND", "NOT_SUPPORTED",
    "TIMESTAMP_PARSE_ERROR", "TRAN_CODE_ERROR", "TRANSACTION_ERROR",
    "UNIQUE_CONSTRAINT_VIOLATION", "UNKNOWN_ERROR", "UUID_PARSE_ERROR",
})

_R = RejectionCode
_BY_RULE: dict[str, str] = {
    # Input the ledger cannot take as sent.
    **dict.fromkeys([_R.COMMAND_INVALID, _R.CATALOG_COMMAND_INVALID,
                     _R.TEXT_NOT_VALID_UNICODE, _R.TEXT_HAS_CONTROL_CHARACTERS,
                     _R.TEXT_TOO_LONG, _R.JSON_TOO_DEEP, _R.JSON_TOO_LARGE,
                     _R.RECORD_TOO_LARGE], "BAD_REQUEST"),
    # A posting's tran code, its params, and the entries it wrote.
    **dict.fromkeys([_R.PARAM_MISSING, _R.PARAM_TYPE_INVALID, _R.PARAM_UNKNOWN,
                     _R.CURRENCY_INVALID, _R.AMOUNT_INVALID, _R.ENTRIES_MUST_BALANCE,
                     _R.CEL_EXPRESSION_TOO_COSTLY, _R.CEL_EXPRESSION_TOO_COMPLEX],
                    "TRAN_CODE_ERROR"),
    _R.CEL_EVALUATION_FAILED: "CEL_EVALUATION_ERROR",
    # What the ledger holds forbids it.
    **dict.fromkeys([_R.TRAN_CODE_LOCKED, _R.JOURNAL_LOCKED, _R.ACCOUNT_LOCKED,
                     _R.ISO8583_CONFIG_LOCKED, _R.VOID_OF_VOID, _R.TRANSACTION_ALREADY_VOIDED,
                     _R.ACCOUNT_SET_LOCKED, _R.ACCOUNT_SET_CYCLE,
                     _R.ACCOUNT_SET_JOURNAL_MISMATCH, _R.CALCULATION_LOCKED,
                     _R.CALCULATION_ATTACHED, _R.VELOCITY_LIMIT_LOCKED,
                     _R.VELOCITY_CONTROL_LOCKED],
                    "TRANSACTION_ERROR"),
    _R.VELOCITY_LIMIT_EXCEEDED: "BALANCE_VELOCITY_EXCEEDED",
    **dict.fromkeys([_R.LIMITED_ACCOUNT_MUST_BE_LOCAL, _R.VELOCITY_LIMIT_SHAPE_UNSUPPORTED],
                    "NOT_SUPPORTED"),
    # Records no client sent, and defects: a client sees them only as a failed command.
    **dict.fromkeys([_R.RECORD_NOT_DECODABLE, _R.LEG_ACCOUNT_NOT_FOUND,
                     _R.LEG_ACCOUNT_NOT_OWNED, _R.RECORD_NOT_VALID, _R.PROCESSING_FAILED],
                    "INTERNAL_SERVER_ERROR"),
    # The API's own codes (connectors.graphql_api.errors, cards, dry runs).
    **dict.fromkeys(["bad_request", "query_too_large", "query_too_deep",
                     "query_has_too_many_fields", "query_has_too_many_aliases",
                     "query_too_costly"], "BAD_REQUEST"),
    "graphql_parse_failed": "GRAPHQL_PARSE_FAILED",
    "graphql_validation_failed": "GRAPHQL_VALIDATION_FAILED",
    "internal_error": "INTERNAL_SERVER_ERROR",
    **dict.fromkeys(["command_timeout", "read_model_timeout", "query_timeout",
                     "card_unanswered"], "INTERRUPTED"),
    "kafka_unavailable": "DEPENDENCY_ERROR",
    **dict.fromkeys(["unauthenticated", "forbidden", "unknown_tenant"], "ACCESS_DENIED"),
    "tenant_required": "BAD_REQUEST",
    "card_declined": "TRANSACTION_ERROR",
    **dict.fromkeys(["dry_run_not_supported", "auth_disabled"], "NOT_SUPPORTED"),
}
# Rules not listed, by how their names end (most are the ACH and auth namespaces').
_BY_SUFFIX = (("_duplicate", "UNIQUE_CONSTRAINT_VIOLATION"), ("_exists", "ALREADY_EXISTS"),
              ("_not_found", "NOT_FOUND"), ("_invalid", "BAD_REQUEST"),
              ("_timeout", "INTERRUPTED"), ("_unavailable", "DEPENDENCY_ERROR"))


def twisp_code(rule: str) -> str:
    """The Twisp code that answers the ledger's ``rule``: a rule the ledger cannot carry
    out on what it holds, when nothing more specific fits."""
    found = _BY_RULE.get(rule)
    if found is not None:
        return found
    for suffix, code in _BY_SUFFIX:
        if rule.endswith(suffix):
            return code
    return "TRANSACTION_ERROR"
