"""CEL behind one interface: folding, engine routing, exact decimals and the helpers."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from ledger_core import (
    Activation,
    EnginePolicy,
    MemoryLedger,
    Posted,
    PostTransaction,
    Rejected,
    RejectionCode,
    TranCode,
    apply,
    compile_expression,
    compile_tran_code,
    tutorial,
)
from ledger_core.expressions import ExpressionError

ROOTS = ("params", "vars", "transaction_id")
TAINT: dict[str, frozenset[str] | None] = {
    "params": frozenset({"amount", "meta"}),
    "vars": frozenset({"fee"}),
}
ACTIVATION = Activation(
    {
        "params": {
            "amount": Decimal("9.53"),
            "n": 3,
            "s": " Card Hold ",
            "flag": True,
            "account": "1fd1dd3e-33fe-4ef5-9d58-676ef8d306b5",
            "effective": "2022-09-21",
            "ts": datetime(2022, 9, 21, 10, 30, tzinfo=UTC),
            "meta": {"mcc": "5411", "amount": Decimal("1.10")},
        },
        "vars": {"fee": Decimal("0.10"), "label": "groceries"},
        "transaction_id": "42847c7f-1972-4448-91b7-652c378760f4",
    }
)

# Every free-standing expression checked here; the conformance test runs them on both engines.
EXPRESSIONS: list[str] = [
    "'USD'",
    '"USD"',
    "42",
    "true",
    "null",
    "DEBIT",
    "ENCUMBRANCE",
    "params.amount",
    "vars.label",
    "transaction_id",
    "uuid('78551B96-9C34-46F9-8D5F-C86E4459FCD7')",
    "date('2022-09-21')",
    "timestamp('2022-09-21T10:00:00Z')",
    "decimal('0.01')",
    "decimal(params.amount) * decimal('0.01')",
    "decimal(params.amount) + vars.fee",
    "params.amount > decimal('5')",
    "params.n * 2 + 1",
    "params.n > 2 ? 'big' : 'small'",
    "params.flag ? CREDIT : DEBIT",
    "params.flag ? 'on' : 42",
    "params.n ? 'a' : 'b'",
    "params.missing ? 'a' : 'b'",
    "params.s ? SETTLED : PENDING",
    "has(params.n)",
    "has(params.missing)",
    "params.s.trim().lowerAscii()",
    "params.s.upperAscii()",
    "params.s.replace('Card', 'Debit')",
    "params.s.trim().substring(0, 4)",
    "params.s.indexOf('Hold')",
    "params.s.startsWith(' C') && params.s.endsWith('d ')",
    "params.s.contains('Hold')",
    "size(params.s)",
    "params.account.toString()",
    "uuid(params.account)",
    "date(params.effective)",
    "date(params.ts)",
    "params.ts.getFullYear()",
    "params.meta.mcc == '5411'",
    "'x-' + string(params.n)",
    "[1, 2, 3].map(x, x * params.n)",
    "[1, 2, 3].exists(x, x == params.n)",
    "{'kind': vars.label, 'n': params.n}",
    "params.missing",
    "uuid('not-a-uuid')",
    "date('2022-13-01')",
    "params.n / 0",
    "decimal('1') / decimal('3')",
    "decimal(0.5)",
    "params.",
    "decimal(params.amount) + params.n",
    "params.n + 1 > params.n",
    "decimal(params.amount) - decimal('9.53') == decimal('0')",
    "decimal(params.amount) * 100 >= 953",
    "'a' 'b'",
    "decimal('1_000')",
    "decimal(params.amount) * 1_000",
    "params.amount != decimal('9.530')",
    "params.amount < vars.fee",
]


def _evaluate(source: str, policy: EnginePolicy = EnginePolicy.AUTO) -> Any:
    expression = compile_expression(source, roots=ROOTS, decimal_fields=TAINT, policy=policy)
    return expression.evaluate(ACTIVATION)


@pytest.mark.parametrize(
    ("source", "value"),
    [("'USD'", "USD"), ("DEBIT", "DEBIT"), ("42", 42), ("true", True),
     ("params.amount", Decimal("9.53")), ("vars.label", "groceries"),
     ("uuid('78551B96-9C34-46F9-8D5F-C86E4459FCD7')", "78551b96-9c34-46f9-8d5f-c86e4459fcd7"),
     ("decimal('0.01')", Decimal("0.01")), ("date('2022-09-21')", "2022-09-21")],
)  # fmt: skip
def test_constants_and_plain_references_are_folded(source: str, value: object) -> None:
    """Literals, bare enum identifiers and params.x/vars.x need no engine at all."""
    expression = compile_expression(source, roots=ROOTS, decimal_fields=TAINT)
    assert expression.engine == "folded"
    assert expression.evaluate(ACTIVATION) == value


@pytest.mark.parametrize(
    ("source", "engine"),
    [("params.n > 2", "rust"), ("params.s.upperAscii()", "rust"),
     ("params.amount > decimal('5')", "decimal"), ("vars.fee", "folded"),
     ("vars.fee > decimal('0')", "decimal"), ("params.meta.mcc == '5411'", "cel-python"),
     ("params.flag ? params.amount : decimal('0')", "cel-python"),
     ("'params.amount'.size()", "rust")],
)  # fmt: skip
def test_only_decimal_free_expressions_reach_the_rust_engine(source: str, engine: str) -> None:
    """Anything that may read or make a decimal runs on the exact decimal path or cel-python."""
    expression = compile_expression(source, roots=ROOTS, decimal_fields=TAINT)
    assert expression.engine == engine


def test_a_choice_between_constants_is_folded() -> None:
    """``params.flag ? CREDIT : DEBIT`` picks a constant without an engine; a condition that
    is not a boolean is left to the engine that would run the expression otherwise."""
    expression = compile_expression("params.flag ? CREDIT : DEBIT", roots=ROOTS,
                                    decimal_fields=TAINT)
    assert expression.engine == "folded"
    assert expression.evaluate(ACTIVATION) == "CREDIT"
    assert expression.evaluate(Activation({"params": {"flag": False}})) == "DEBIT"
    for odd in ({"flag": "yes"}, {"flag": 1}, {}):
        with pytest.raises(ExpressionError):
            expression.evaluate(Activation({"params": odd}))
    chosen = compile_expression("params.flag ? params.n : 0", roots=ROOTS, decimal_fields=TAINT)
    assert chosen.engine == "rust"


def test_decimal_fast_path_defers_to_the_reference_when_unsure() -> None:
    """Given an operand type it does not handle, the decimal path answers as cel-python does."""
    expression = compile_expression(
        "decimal(params.amount) + params.n", roots=ROOTS, decimal_fields=TAINT
    )
    assert expression.engine == "decimal"
    assert expression.evaluate(ACTIVATION) == Decimal("12.53")
    odd = Activation({"params": {"amount": Decimal("1"), "n": "x"}})
    with pytest.raises(ExpressionError):
        expression.evaluate(odd)
    ints = Activation({"params": {"amount": 2**62, "n": 2**62}})
    assert expression.evaluate(ints) == Decimal(2**63)


def test_decimal_arithmetic_is_exact() -> None:
    """decimal(params.amount) * decimal('0.01') is exactly 0.0953, with no float in between."""
    assert _evaluate("decimal(params.amount) * decimal('0.01')") == Decimal("0.0953")
    assert _evaluate("decimal('0.1') + decimal('0.2')") == Decimal("0.3")


def test_inexact_decimal_arithmetic_fails_rather_than_rounds() -> None:
    """A division with no exact decimal result is an evaluation error, not a rounded value."""
    with pytest.raises(ExpressionError, match="round"):
        _evaluate("decimal('1') / decimal('3')")


def test_floats_cannot_become_decimals() -> None:
    """decimal() refuses a double, whose binary value is not the decimal written."""
    with pytest.raises(ExpressionError):
        _evaluate("decimal(0.1)")


def test_rust_context_carries_decimals_as_strings() -> None:
    """The Rust engine's context holds decimal values as text, never as floats."""
    activation = Activation({"params": {"amount": Decimal("0.1")}, "vars": {}})
    context = activation.rust_context((frozenset({"params", "DEBIT"}), frozenset({"uuid"})))
    assert context.variables == {"params": {"amount": "0.1"}, "DEBIT": "DEBIT"}
    assert set(context.functions) == {"uuid"}


@pytest.mark.parametrize("policy", list(EnginePolicy))
def test_every_policy_gives_the_same_answer(policy: EnginePolicy) -> None:
    """Folded, Rust and reference compilation of the same source agree."""
    for source in ("params.n > 2 ? 'big' : 'small'", "decimal(params.amount) + vars.fee",
                   "params.flag ? CREDIT : DEBIT", "uuid(params.account)"):  # fmt: skip
        assert _evaluate(source, policy) == _evaluate(source, EnginePolicy.REFERENCE)


def test_syntax_error_fails_at_evaluation() -> None:
    """A source that does not parse compiles to an expression that reports the error."""
    with pytest.raises(ExpressionError, match="does not compile"):
        _evaluate("params.")


FEE_CODE = TranCode.model_validate(
    {
        "tranCodeId": "b2000000-0000-4000-8000-000000000001",
        "code": "PURCHASE_WITH_FEE",
        "params": [
            {"name": "account", "type": "UUID"},
            {"name": "amount", "type": "DECIMAL"},
            {"name": "feeRate", "type": "STRING", "default": "'0.01'"},
            {"name": "memo", "type": "STRING", "default": "'purchase'"},
        ],
        "vars": {
            "fee": "decimal(params.amount) * decimal(params.feeRate)",
            "total": "decimal(params.amount) + vars.fee",
            "label": "params.memo.upperAscii()",
        },
        "transaction": {
            "description": "vars.label + ' ' + transaction_id",
            "metadata": "{'memo': params.memo, 'hasFee': vars.fee > decimal('0')}",
            "correlationId": "'corr-' + params.memo",
        },
        "entries": [
            {"accountId": "params.account", "units": "vars.total", "currency": "'USD'",
             "direction": "DEBIT"},
            {"accountId": "uuid('78551b96-9c34-46f9-8d5f-c86e4459fcd7')",
             "units": "params.amount", "currency": "'USD'", "direction": "CREDIT",
             "entryType": "'PURCHASE'", "description": "'principal'"},
            {"accountId": "uuid('78551b96-9c34-46f9-8d5f-c86e4459fcd7')", "units": "vars.fee",
             "currency": "'USD'", "direction": "CREDIT", "layer": "SETTLED",
             "condition": "vars.fee > decimal('0')", "metadata": "{'kind': 'fee'}"},
        ],
    }
)  # fmt: skip


def _fee_ledger() -> MemoryLedger:
    ledger = MemoryLedger()
    tutorial.install(ledger)
    ledger.add_tran_code(FEE_CODE)
    return ledger


def test_vars_feed_entries_and_conditions(now: datetime) -> None:
    """Vars see params and earlier vars; a false condition skips its entry."""
    ledger = _fee_ledger()
    command = PostTransaction(
        transaction_id=UUID(int=1), tran_code="PURCHASE_WITH_FEE",
        params={"account": str(tutorial.ERNIE.account_id), "amount": "20.00"},
    )  # fmt: skip
    decision = apply(ledger, command, now)
    assert isinstance(decision, Posted), decision
    assert [e.units for e in decision.entries] == [
        Decimal("20.20"), Decimal("20.00"), Decimal("0.20"),
    ]  # fmt: skip
    assert [e.entry_type for e in decision.entries] == [
        "PURCHASE_WITH_FEE_DR", "PURCHASE", "PURCHASE_WITH_FEE_CR",
    ]  # fmt: skip
    assert decision.entries[2].metadata == {"kind": "fee"}
    assert decision.transaction.description == f"PURCHASE {UUID(int=1)}"
    assert decision.transaction.metadata == {"memo": "purchase", "hasFee": True}
    assert decision.transaction.correlation_id == "corr-purchase"
    assert decision.transaction.effective == now.date()

    free = command.model_copy(update={"transaction_id": UUID(int=2),
                                      "params": {**command.params, "feeRate": "0"}})  # fmt: skip
    decision = apply(ledger, free, now)
    assert isinstance(decision, Posted)
    assert [e.sequence for e in decision.entries] == [1, 2]


def test_fee_that_cents_cannot_hold_is_refused(now: datetime) -> None:
    """A computed fee of 0.2053 USD is refused as amount_invalid, not rounded to 0.21."""
    command = PostTransaction(
        transaction_id=UUID(int=3), tran_code="PURCHASE_WITH_FEE",
        params={"account": str(tutorial.ERNIE.account_id), "amount": "20.53"},
    )  # fmt: skip
    decision = apply(_fee_ledger(), command, now)
    assert isinstance(decision, Rejected)
    assert decision.code is RejectionCode.AMOUNT_INVALID
    assert "20.7353" in decision.message


def test_tran_code_is_compiled_once_per_version() -> None:
    """Compiling the same tran code version twice returns the cached compilation."""
    assert compile_tran_code(FEE_CODE) is compile_tran_code(FEE_CODE)
    bumped = FEE_CODE.model_copy(update={"version": 2})
    assert compile_tran_code(bumped) is not compile_tran_code(FEE_CODE)


def test_tutorial_tran_code_needs_no_engine() -> None:
    """Every expression of the tutorial's ACH_CREDIT folds to a constant or a reference."""
    engines = {e.engine for _, e in compile_tran_code(tutorial.ACH_CREDIT).expressions()}
    assert engines == {"folded"}
