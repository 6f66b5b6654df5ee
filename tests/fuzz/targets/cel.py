"""Target ``cel``: one CEL source, as a tran code field goes through it at creation and at use.

The input is the UTF-8 text of one expression (lone surrogates may be spelt in it: JSON text
can carry them into a tran code). What the catalog does with each CEL field of a new tran
code, then what a posting does with it:

1. ``ledger_core.input_bounds.cel_source_problem(source)``: the bound every CEL field of a
   catalog document passes before any parser sees it (``ledger_core.bounded_fields``); a
   source it refuses is expected (the catalog rejects the tran code, e.g. with
   ``cel_expression_too_complex``) and goes no further, as in production;
2. what ``ledger_core.catalog._compiles`` does with the field: ``compile_expression(source,
   roots=TRAN_CODE_ROOTS, decimal_fields=...)`` with the production policy (AUTO, as
   ``compile_tran_code`` compiles); a ``FailingExpression`` is expected: the catalog rejects
   the tran code with ``cel_evaluation_failed``; then
   ``ledger_core.expression_cost.comprehension_depth(source)``; a depth above
   ``COMPREHENSION_DEPTH_MAX`` is expected: the catalog rejects it as too costly;
3. for a source the catalog would accept, ``evaluate`` against a small activation (params of
   every type, vars, transaction_id); a value or an ``ExpressionError`` is expected (the
   posting is rejected with ``cel_evaluation_failed``).

Any other exception (``RecursionError`` included), or a compilation or evaluation that runs
past libFuzzer's ``-timeout``, is a finding. Input that is not UTF-8 is skipped.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from ledger_core.expansion import TRAN_CODE_ROOTS
from ledger_core.expression_cost import COMPREHENSION_DEPTH_MAX, comprehension_depth
from ledger_core.expressions import (
    Activation,
    EnginePolicy,
    ExpressionError,
    FailingExpression,
    compile_expression,
)
from ledger_core.input_bounds import cel_source_problem

__all__ = ["DECIMAL_FIELDS", "ROOTS", "check", "test_one_input"]

# Which fields may hold decimals, as ledger_core.expansion works it out for a tran code with
# these params and vars.
DECIMAL_FIELDS: dict[str, frozenset[str] | None] = {
    "params": frozenset({"amount", "items", "extra"}),
    "vars": frozenset({"fee"}),
}
ROOTS = {
    "params": {
        "account": "1fd1dd3e-33fe-4ef5-9d58-676ef8d306b5",
        "amount": Decimal("9.53"),
        "effective": "2022-09-21",
        "currency": "USD",
        "note": "fuzz note",
        "count": 3,
        "flag": True,
        "at": datetime(2026, 11, 22, 10, 0, tzinfo=UTC),
        "items": [Decimal("1.50"), 2, "x", None, {"amount": Decimal("0.01")}],
        "extra": {"a": Decimal("0.01"), "b": [1, 2], "c": {"d": "e"}},
    },
    "vars": {"fee": Decimal("0.0953"), "label": "fuzz:3"},
    "transaction_id": "42847c7f-1972-4448-91b7-652c378760f4",
}


def check(source: str) -> None:
    """Bound, compile, cost-check and evaluate ``source`` as the ledger does; raise on a
    finding."""
    if cel_source_problem(source) is not None:
        return  # the catalog refuses it before any parser runs
    expression = compile_expression(source, roots=TRAN_CODE_ROOTS,
                                    decimal_fields=DECIMAL_FIELDS, policy=EnginePolicy.AUTO)
    if isinstance(expression, FailingExpression):
        return  # the catalog rejects it: cel_evaluation_failed
    if comprehension_depth(source) > COMPREHENSION_DEPTH_MAX:
        return  # the catalog rejects it: cel_expression_too_costly
    try:
        expression.evaluate(Activation(ROOTS))
    except ExpressionError:
        return  # the posting is rejected: cel_evaluation_failed


def test_one_input(data: bytes) -> None:
    """The fuzz target."""
    try:
        source = data.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:
        return
    check(source)
