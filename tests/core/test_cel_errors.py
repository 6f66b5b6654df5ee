"""What a failing CEL expression tells the tran code's author: the rule it broke, in CEL's
terms, in one line, without the engines' internals."""

from __future__ import annotations

import logging
from datetime import datetime
from uuid import UUID

import pytest

from ledger_core import (
    MemoryLedger,
    PostTransaction,
    Rejected,
    RejectionCode,
    TranCode,
    apply,
    tutorial,
)

INTERNALS = ("activation", "<class", "Token(", "Check ", "celpy", "Traceback", "\n")


@pytest.mark.parametrize(
    ("units", "message"),
    [
        ("params.amount.foo()", "undeclared reference to 'foo'"),
        ("nope + 1", "Undefined variable or function: 'nope'"),
        ("params.amount + 'a'", "no operator + for (decimal, string)"),
        ("params.account > 3", "No such overload: the operation is not defined for the given "
                               "operand types"),
        ("int('x')", "Function 'int' error: string parse error: invalid digit found in string"),
        ("(", "does not compile: syntax error at line 1, column 1"),
        ("decimal('1') +\n (decimal('2') *", "does not compile: syntax error at line 2, column"),
        ("params.amount / decimal('0')", "divide by zero"),
    ],
)  # fmt: skip
def test_a_failing_expression_says_what_broke(units: str, message: str, now: datetime,
                                              caplog: pytest.LogCaptureFixture) -> None:
    """The rejection names the field and the expression and says, in one line, what broke;
    the engines log nothing of it (their warnings would carry the params' values)."""
    ledger = MemoryLedger()
    tutorial.install(ledger)
    ledger.add_tran_code(TranCode.model_validate({
        "tranCodeId": "b5000000-0000-4000-8000-000000000001", "code": "FAILING",
        "params": [{"name": "account", "type": "UUID"}, {"name": "amount", "type": "DECIMAL"}],
        "entries": [{"accountId": "params.account", "units": units, "currency": "'USD'",
                     "direction": direction} for direction in ("DEBIT", "CREDIT")]}))
    with caplog.at_level(logging.DEBUG):
        decision = apply(ledger, PostTransaction(
            transaction_id=UUID(int=1), tran_code="FAILING",
            params={"account": str(tutorial.ERNIE.account_id), "amount": "1.00"}), now)
    assert isinstance(decision, Rejected), decision
    assert decision.code is RejectionCode.CEL_EVALUATION_FAILED
    assert decision.message.startswith("entries[0].units: CEL "), decision.message
    assert message in decision.message, decision.message
    assert not any(internal in decision.message.split(" failed: ", 1)[1]
                   for internal in INTERNALS), decision.message
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.records
