"""Every rule code the ledger and the API answer with maps to one of Twisp's error codes."""

import pytest

from connectors.graphql_api import errors
from connectors.graphql_api.card_mutations import CARD_DECLINED
from connectors.graphql_api.dry_run import DRY_RUN_NOT_SUPPORTED
from connectors.graphql_api.twisp_codes import TWISP_CODES, twisp_code
from ledger_core import RejectionCode

API_CODES = [value for name, value in vars(errors).items()
             if name.isupper() and isinstance(value, str)] + [CARD_DECLINED,
                                                              DRY_RUN_NOT_SUPPORTED]


@pytest.mark.parametrize("rule", [*RejectionCode, *API_CODES])
def test_every_rule_has_a_twisp_code(rule: str) -> None:
    """No rule falls through to a code outside Twisp's list."""
    assert twisp_code(rule) in TWISP_CODES


@pytest.mark.parametrize(("rule", "code"), [
    ("transaction_id_duplicate", "UNIQUE_CONSTRAINT_VIOLATION"),
    ("account_code_duplicate", "UNIQUE_CONSTRAINT_VIOLATION"),
    ("entries_must_balance", "TRAN_CODE_ERROR"),
    ("param_missing", "TRAN_CODE_ERROR"),
    ("cel_evaluation_failed", "CEL_EVALUATION_ERROR"),
    ("velocity_limit_exceeded", "BALANCE_VELOCITY_EXCEEDED"),
    ("account_locked", "TRANSACTION_ERROR"),
    ("tran_code_not_found", "NOT_FOUND"),
    ("graphql_validation_failed", "GRAPHQL_VALIDATION_FAILED"),
    ("forbidden", "ACCESS_DENIED"),
    ("unknown_tenant", "ACCESS_DENIED"),
    ("tenant_required", "BAD_REQUEST"),
    ("command_timeout", "INTERRUPTED"),
    ("kafka_unavailable", "DEPENDENCY_ERROR"),
    ("internal_error", "INTERNAL_SERVER_ERROR"),
    ("dry_run_not_supported", "NOT_SUPPORTED"),
    ("client_exists", "ALREADY_EXISTS"),
    ("ach_execution_not_found", "NOT_FOUND"),
    ("ach_transition_invalid", "BAD_REQUEST"),
    ("ach_trace_conflict", "TRANSACTION_ERROR"),
])
def test_rules_answer_with_the_code_twisp_gives_such_a_failure(rule: str, code: str) -> None:
    """Duplicates are unique-constraint violations, tran code faults TRAN_CODE_ERROR, and
    the namespaces' rules go by their names."""
    assert twisp_code(rule) == code


def test_an_error_carries_the_code_the_rule_and_whether_to_retry() -> None:
    """Twisp's extensions, with the rule beside the code and the details after them."""
    error = errors.RejectionError("entries_must_balance", "unbalanced", "entries", "2")
    assert error.extensions == {"code": "TRAN_CODE_ERROR", "rule": "entries_must_balance",
                                "retriableError": False, "field": "entries", "value": "2"}
