"""Engine conformance: every CEL expression of the suite gives the same result everywhere.

The expressions come from every tran code, velocity limit condition and ``*_EXPRESSIONS``
list defined at module level in ``ledger_core`` and in these tests, plus every tran code and
limit condition compiled earlier in this session (this module is collected last). Each
expression runs through the reference engine (cel-python, unfolded), the production path
(folded where possible, Rust where decimal-free) and the Rust-preferring path, and all must
agree: the same value of the same type, or all fail.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import ledger_core
from ledger_core import (
    Activation,
    EnginePolicy,
    Expression,
    ParamType,
    TranCode,
    VelocityLimit,
    compile_expression,
    compile_tran_code,
)
from ledger_core.expansion import TRAN_CODE_ROOTS
from ledger_core.expressions import ExpressionError, compile_reference
from ledger_core.limits import _CONDITIONS

from . import test_expressions

_SAMPLES: dict[ParamType, object] = {
    ParamType.STRING: "sample",
    ParamType.INTEGER: 3,
    ParamType.DECIMAL: Decimal("9.53"),
    ParamType.BOOLEAN: True,
    ParamType.UUID: "1fd1dd3e-33fe-4ef5-9d58-676ef8d306b5",
    ParamType.DATE: "2022-09-21",
    ParamType.TIMESTAMP: datetime(2022, 9, 21, 10, tzinfo=UTC),
    ParamType.JSON: {"a": 1, "b": [Decimal("1.5"), "x"]},
}


def _modules() -> Iterator[ModuleType]:
    for info in pkgutil.iter_modules(ledger_core.__path__):
        yield importlib.import_module(f"ledger_core.{info.name}")
    here = Path(__file__).parent
    for path in sorted(here.glob("*.py")):
        if path.stem not in {"__init__", "conftest"}:
            yield importlib.import_module(f"{__package__}.{path.stem}")


def _walk(value: object) -> Iterator[object]:
    if isinstance(value, list | tuple):
        for item in value:
            yield from _walk(item)
    else:
        yield value


def _corpus() -> tuple[list[TranCode], list[str], list[str]]:
    tran_codes: dict[tuple[Any, int, str], TranCode] = {}
    free: list[str] = []
    conditions: list[str] = []
    for module in _modules():
        for name, value in vars(module).items():
            for item in _walk(value):
                if isinstance(item, TranCode):
                    tran_codes[(item.tran_code_id, item.version, item.model_dump_json())] = item
                elif isinstance(item, VelocityLimit) and item.condition:
                    conditions.append(item.condition)
                elif name.endswith("EXPRESSIONS") and isinstance(item, str):
                    free.append(item)
    from ledger_core.expansion import _CACHE

    for compiled in list(_CACHE.values()):
        code = compiled.tran_code
        tran_codes[(code.tran_code_id, code.version, code.model_dump_json())] = code
    conditions.extend(source for _, source in list(_CONDITIONS))
    return list(tran_codes.values()), sorted(set(free)), sorted(set(conditions))


def _outcome(expression: Expression, activation: Activation) -> tuple[str, object]:
    try:
        value = expression.evaluate(activation)
    except ExpressionError:
        return ("error", None)
    return (type(value).__name__, value)


def _agree(source: str, activation: Activation, *candidates: Expression | None) -> None:
    expected = _outcome(compile_reference(source), activation)
    for candidate in candidates:
        if candidate is not None:
            assert _outcome(candidate, activation) == expected, (source, candidate.engine)


def _activations(tran_code: TranCode) -> Iterator[Activation]:
    for flag in (True, False):
        params = {
            p.name: (flag if p.type is ParamType.BOOLEAN else _SAMPLES[p.type])
            for p in tran_code.params
        }
        roots: dict[str, object] = {"params": params, "transaction_id": str(tran_code.tran_code_id)}
        variables: dict[str, object] = {}
        for name, source in tran_code.vars.items():
            activation = Activation({**roots, "vars": dict(variables)})
            outcome = _outcome(compile_reference(source), activation)
            if outcome[0] != "error":
                variables[name] = outcome[1]
        yield Activation({**roots, "vars": variables})


def test_every_tran_code_expression_agrees_across_engines() -> None:
    """Each tran code expression gives the reference result on the folded and Rust paths."""
    tran_codes, _, _ = _corpus()
    assert len(tran_codes) >= 8
    checked = 0
    for tran_code in tran_codes:
        production = compile_tran_code(tran_code, EnginePolicy.AUTO).expressions()
        rust = compile_tran_code(tran_code, EnginePolicy.RUST).expressions()
        for activation in _activations(tran_code):
            for (path, auto), (_, rusty) in zip(production, rust, strict=True):
                assert auto.source == rusty.source, path
                _agree(auto.source, activation, auto, rusty)
                checked += 1
    assert checked > 100


def test_every_free_expression_agrees_across_engines() -> None:
    """Each expression listed in a test module agrees on all engines, errors included."""
    _, free, _ = _corpus()
    assert set(test_expressions.EXPRESSIONS) <= set(free)
    activation = test_expressions.ACTIVATION
    for source in free:
        for policy in (EnginePolicy.AUTO, EnginePolicy.RUST):
            candidate = compile_expression(
                source, roots=TRAN_CODE_ROOTS, decimal_fields=test_expressions.TAINT,
                policy=policy,
            )  # fmt: skip
            _agree(source, activation, candidate)


def test_every_limit_condition_agrees_across_engines() -> None:
    """Each velocity limit condition agrees on all engines."""
    _, _, conditions = _corpus()
    activation = Activation(
        {
            "params": {"amount": Decimal("5.00")},
            "account": {"code": "CARD.CUSTOMER", "metadata": {"tier": "gold"}},
            "transaction": {"tranCode": "CARD_HOLD", "metadata": {}, "isVoid": False},
        }
    )
    taint: dict[str, frozenset[str] | None] = {
        "params": None, "account": frozenset({"metadata"}),
        "transaction": frozenset({"metadata"}),
    }  # fmt: skip
    roots = ("params", "account", "transaction")
    assert conditions
    for source in conditions:
        for policy in (EnginePolicy.AUTO, EnginePolicy.RUST):
            candidate = compile_expression(source, roots=roots, decimal_fields=taint, policy=policy)
            _agree(source, activation, candidate)
