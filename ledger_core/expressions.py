"""CEL behind one small interface: compile once, fold what is constant, evaluate exactly.

``compile_expression`` turns a CEL source into an ``Expression`` whose ``evaluate`` takes an
``Activation`` (the named roots an expression may read: ``params``, ``vars``,
``transaction_id``, ...) and returns a plain Python value:
str, int, bool, Decimal, datetime (UTC), list, dict or None.

Four implementations sit behind it, tried in this order:

* folded: literals (``'USD'``, ``42``, ``true``), the bare identifiers ``DEBIT``, ``CREDIT``,
  ``SETTLED``, ``PENDING``, ``ENCUMBRANCE``, helper calls on a literal (``uuid('...')``,
  ``date('...')``, ``timestamp('...')``, ``decimal('...')``) and plain references
  (``params.x``, ``vars.x``, ``transaction_id``) cost a dict lookup or nothing;
* the Rust-backed ``cel`` engine, which converts Python Decimal to float, so it only runs
  expressions that provably cannot read or make a decimal (see ``decimal_free``);
* an exact decimal path for arithmetic and comparisons over ``decimal(...)``, params and
  vars, which defers to cel-python whenever it is not certain of the answer;
* cel-python (``celpy``), the reference engine, for everything else.

Exact decimals: a DECIMAL value is a ``Decimal`` in the activation. cel-python's arithmetic
calls Python's operators, so ``decimal(params.amount) * decimal('0.01')`` stays a Decimal;
it runs under a decimal context that traps rounding, so an inexact result fails the
evaluation instead of being rounded. The Rust engine receives decimals as strings (never as
floats) and is never given an expression that references a decimal-typed value.

Uuids and dates are canonical strings inside CEL (``uuid()`` and ``date()`` validate and
normalise), timestamps are native CEL timestamps in both engines.
"""

from __future__ import annotations

import ast
import logging
import re
import uuid as uuid_module
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, localcontext
from enum import StrEnum
from typing import Any, Final, Protocol

import cel
import celpy
from celpy import celtypes
from celpy.celparser import CELParseError
from celpy.evaluation import CELEvalError

from ledger_core.enums import Direction, Layer
from ledger_core.money import MONEY_CONTEXT, parse_decimal

# The Rust engine logs every failing function call with its arguments (a param's value,
# perhaps one that must not reach a log); the failure already comes back as a typed
# rejection, so its warning says nothing new.
logging.getLogger("cel").setLevel(logging.ERROR)

__all__ = [
    "Activation",
    "EnginePolicy",
    "Expression",
    "ExpressionError",
    "compile_expression",
    "decimal_free",
]


class ExpressionError(Exception):
    """An expression failed to compile or evaluate; the caller turns it into a Rejection."""


class EnginePolicy(StrEnum):
    """Which engines ``compile_expression`` may use; AUTO is the production choice."""

    AUTO = "AUTO"
    """Fold what is constant, run decimal-free expressions on Rust, the rest on cel-python."""
    REFERENCE = "REFERENCE"
    """cel-python for everything, no folding: the baseline the others are checked against."""
    RUST = "RUST"
    """Rust for every decimal-free expression, no folding; decimals still go to cel-python."""


# Identifiers bound in every activation so templates can write ``direction: "DEBIT"``.
ENUM_IDENTIFIERS: Final[Mapping[str, str]] = {
    **{d.value: d.value for d in Direction},
    **{layer.value: layer.value for layer in Layer},
}

# -- helper functions shared by both engines ----------------------------------------------

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _uuid(value: object) -> str:
    if not isinstance(value, str):
        raise ExpressionError(f"uuid() needs a string, got {type(value).__name__}")
    try:
        return str(uuid_module.UUID(value))
    except ValueError as exc:
        raise ExpressionError(f"uuid() cannot read {value!r}") from exc


def _date(value: object) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).date().isoformat()
    if not isinstance(value, str):
        raise ExpressionError(f"date() needs a string, got {type(value).__name__}")
    if _ISO_DATE.fullmatch(value) is None:
        raise ExpressionError(f"date() needs YYYY-MM-DD, got {value!r}")
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError as exc:
        raise ExpressionError(f"date() cannot read {value!r}") from exc


def _decimal(value: object) -> Decimal:
    parsed = parse_decimal(value)
    if isinstance(parsed, str):
        raise ExpressionError(f"decimal() cannot read {value!r}: {parsed}")
    return parsed


def _to_string(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | Decimal):
        return str(value)
    raise ExpressionError(f"toString() does not accept {type(value).__name__}")


def _text(value: object, function: str) -> str:
    if not isinstance(value, str):
        raise ExpressionError(f"{function}() needs a string, got {type(value).__name__}")
    return value


def _lower_ascii(value: object) -> str:
    text = _text(value, "lowerAscii")
    return "".join(c.lower() if c.isascii() else c for c in text)


def _upper_ascii(value: object) -> str:
    text = _text(value, "upperAscii")
    return "".join(c.upper() if c.isascii() else c for c in text)


def _trim(value: object) -> str:
    return _text(value, "trim").strip()


def _replace(value: object, old: object, new: object) -> str:
    return _text(value, "replace").replace(_text(old, "replace"), _text(new, "replace"))


def _substring(value: object, start: object, end: object | None = None) -> str:
    text = _text(value, "substring")
    if not isinstance(start, int) or (end is not None and not isinstance(end, int)):
        raise ExpressionError("substring() needs integer positions")
    stop = len(text) if end is None else end
    if not 0 <= start <= stop <= len(text):
        raise ExpressionError(f"substring({start}, {stop}) is out of range for {text!r}")
    return text[start:stop]


def _index_of(value: object, needle: object) -> int:
    return _text(value, "indexOf").find(_text(needle, "indexOf"))


# The functions registered in both engines, by CEL name. ``decimal`` is cel-python only.
_SHARED_FUNCTIONS: Final[Mapping[str, Callable[..., object]]] = {
    "uuid": _uuid,
    "date": _date,
    "toString": _to_string,
    "lowerAscii": _lower_ascii,
    "upperAscii": _upper_ascii,
    "trim": _trim,
    "replace": _replace,
    "substring": _substring,
    "indexOf": _index_of,
}

# Functions and operators the Rust engine evaluates natively with CEL-standard semantics.
_RUST_NATIVE: Final = frozenset(
    {
        "!_", "-_", "_+_", "_-_", "_*_", "_/_", "_%_", "_<_", "_<=_", "_>_", "_>=_", "_==_",
        "_!=_", "_&&_", "_||_", "_?_:_", "_[_]", "@in", "@not_strictly_false", "size",
        "contains", "startsWith", "endsWith", "matches", "int", "string", "bool",
        "timestamp", "duration", "getFullYear", "getMonth", "getDayOfMonth", "getDate",
        "getDayOfWeek", "getDayOfYear", "getHours", "getMinutes", "getSeconds",
    }
)  # fmt: skip
_RUST_FUNCTIONS: Final = _RUST_NATIVE | frozenset(_SHARED_FUNCTIONS)

# -- activations ---------------------------------------------------------------------------


# What a Rust program reads: the variable names and the shared functions it references.
RustNeeds = tuple[frozenset[str], frozenset[str]]


class Activation:
    """The named roots an expression reads, with engine-specific forms built lazily.

    Roots hold plain Python values. The engine forms are built at most once per activation,
    and only when an expression of that engine actually runs, because building them costs
    more than evaluating a folded expression.
    """

    __slots__ = ("_celpy", "_rust", "roots")

    def __init__(self, roots: Mapping[str, object]) -> None:
        """Wrap ``roots`` (root name -> plain value); the mapping must not change afterwards."""
        self.roots = roots
        self._celpy: dict[str, Any] | None = None
        self._rust: dict[RustNeeds, cel.Context] | None = None

    def with_root(self, name: str, value: object) -> Activation:
        """Return a new activation with ``name`` bound to ``value``."""
        roots = dict(self.roots)
        roots[name] = value
        return Activation(roots)

    def celpy_activation(self) -> dict[str, Any]:
        """The roots converted to cel-python values, with the enum identifiers bound."""
        if self._celpy is None:
            converted: dict[str, Any] = {
                name: celtypes.StringType(value) for name, value in ENUM_IDENTIFIERS.items()
            }
            for name, value in self.roots.items():
                converted[name] = _to_celpy(value)
            self._celpy = converted
        return self._celpy

    def rust_context(self, needs: RustNeeds) -> cel.Context:
        """A Rust-engine context holding just the variables (roots first, then enum
        identifiers) and shared functions that ``needs`` names; decimals become strings,
        never floats. The engine converts every variable and wraps every function each time
        it builds a context, and most programs read one root and call no shared function.
        """
        if self._rust is None:
            self._rust = {}
        context = self._rust.get(needs)
        if context is None:
            names, functions = needs
            variables: dict[str, Any] = {}
            for name in names:
                if name in self.roots:
                    variables[name] = _to_rust(self.roots[name])
                elif name in ENUM_IDENTIFIERS:
                    variables[name] = ENUM_IDENTIFIERS[name]
            context = self._rust[needs] = cel.Context(
                variables, {name: _SHARED_FUNCTIONS[name] for name in functions})
        return context


def _to_celpy(value: object) -> Any:
    if value is None or isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        return celtypes.BoolType(value)
    if isinstance(value, int):
        return celtypes.IntType(value)
    if isinstance(value, str):
        return celtypes.StringType(value)
    if isinstance(value, datetime):
        return celtypes.TimestampType(value)
    if isinstance(value, Mapping):
        return celtypes.MapType(
            {celtypes.StringType(str(k)): _to_celpy(v) for k, v in value.items()}
        )
    if isinstance(value, list | tuple):
        return celtypes.ListType([_to_celpy(v) for v in value])
    raise ExpressionError(f"a {type(value).__name__} cannot enter CEL")


def _to_rust(value: object) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _to_rust(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_to_rust(v) for v in value]
    return value


def to_plain(value: object) -> object:
    """Return an engine result as a plain Python value (celpy types unwrapped, UTC times)."""
    if value is None:
        return None
    if isinstance(value, bool | celtypes.BoolType):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, Decimal):
        return Decimal(value)
    if isinstance(value, datetime):
        moment = value.astimezone(UTC)
        return datetime(
            moment.year, moment.month, moment.day, moment.hour, moment.minute,
            moment.second, moment.microsecond, tzinfo=UTC,
        )  # fmt: skip
    if isinstance(value, Mapping):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_plain(v) for v in value]
    if isinstance(value, bytes):
        return bytes(value)
    return value


# -- expressions ---------------------------------------------------------------------------


class Expression(Protocol):
    """A compiled CEL expression: its source, the engine that runs it, and ``evaluate``."""

    @property
    def source(self) -> str:
        """The CEL text this expression was compiled from."""
        ...

    @property
    def engine(self) -> str:
        """``folded``, ``cel-python`` or ``rust``: which implementation evaluates it."""
        ...

    def evaluate(self, activation: Activation) -> object:
        """Return the value of the expression, or raise ExpressionError."""
        ...


@dataclass(frozen=True, slots=True)
class ConstantExpression:
    """A literal whose value was computed once, at compile time."""

    source: str
    value: object
    engine: str = "folded"

    def evaluate(self, activation: Activation) -> object:
        """Return the constant."""
        return self.value


@dataclass(frozen=True, slots=True)
class ReferenceExpression:
    """``root.field`` (or a bare ``root`` when ``field`` is None), read without any engine."""

    source: str
    root: str
    field: str | None
    engine: str = "folded"

    def evaluate(self, activation: Activation) -> object:
        """Return the referenced value; a missing root or field fails like CEL does."""
        try:
            value = activation.roots[self.root]
        except KeyError:
            raise ExpressionError(f"undeclared reference to {self.root!r}") from None
        if self.field is None:
            return value
        if not isinstance(value, Mapping) or self.field not in value:
            raise ExpressionError(f"no such key {self.field!r} in {self.root}")
        return value[self.field]


@dataclass(frozen=True, slots=True)
class FailingExpression:
    """An expression that did not compile: evaluating it reports the compile error."""

    source: str
    error: str
    engine: str = "cel-python"

    def evaluate(self, activation: Activation) -> object:
        """Raise the compile error."""
        raise ExpressionError(self.error)


@dataclass(frozen=True, slots=True)
class ConditionalExpression:
    """``root.field ? constant : constant``, the shape tran codes choose a layer or an entry
    type with, run without any engine. A condition that is not a boolean, or that fails, is
    answered by ``otherwise``: the expression compiled as if it could not be folded."""

    source: str
    condition: ReferenceExpression
    if_true: ConstantExpression
    if_false: ConstantExpression
    otherwise: Expression
    engine: str = "folded"

    def evaluate(self, activation: Activation) -> object:
        """Pick the constant; leave anything unusual to the general engine."""
        try:
            chosen = self.condition.evaluate(activation)
        except ExpressionError:
            return self.otherwise.evaluate(activation)
        if chosen is True:
            return self.if_true.value
        if chosen is False:
            return self.if_false.value
        return self.otherwise.evaluate(activation)


_CELPY_ENV = celpy.Environment()


def _for_celpy(function: Callable[..., object]) -> Callable[..., Any]:
    # cel-python hands over its own types and expects them back.
    def call(*arguments: Any) -> Any:
        return _to_celpy(function(*(to_plain(a) for a in arguments)))

    return call


_CELPY_FUNCTIONS: Final[dict[str, Any]] = {
    **{name: _for_celpy(function) for name, function in _SHARED_FUNCTIONS.items()},
    "decimal": lambda value: _decimal(to_plain(value)),
}


@dataclass(frozen=True, slots=True)
class CelPythonExpression:
    """An expression run by cel-python, under a decimal context that traps rounding."""

    source: str
    program: Any
    engine: str = "cel-python"

    def evaluate(self, activation: Activation) -> object:
        """Evaluate with cel-python; any failure, including inexact decimals, raises."""
        try:
            with localcontext(MONEY_CONTEXT):
                result = self.program.evaluate(activation.celpy_activation())
        except ExpressionError:
            raise
        except Exception as exc:
            raise ExpressionError(_describe(exc)) from exc
        if isinstance(result, CELEvalError):
            raise ExpressionError(_describe(result))
        return to_plain(result)


@dataclass(frozen=True, slots=True)
class RustExpression:
    """A decimal-free expression run by the Rust-backed engine."""

    source: str
    program: Any
    needs: RustNeeds
    engine: str = "rust"

    def evaluate(self, activation: Activation) -> object:
        """Evaluate with the Rust engine; any failure raises."""
        try:
            result = self.program.execute(activation.rust_context(self.needs))
        except ExpressionError:
            raise
        except Exception as exc:
            raise ExpressionError(_describe(exc)) from exc
        return to_plain(result)


_PYTHON_FUNCTION_ERROR = re.compile(r"ExpressionError: (.*?)(?:\. Check function arguments.*)?$")
# What the engines add to a message that says nothing to the tran code's author: cel-python
# dumps the whole activation after an undeclared reference, names operators by grammar rule
# and operands by Python class; the Rust engine appends advice after its first sentence.
_ACTIVATION = re.compile(r"\s*\(in activation .*$")
_OVERLOAD = re.compile(r"found no matching overload for Token\('RULE', '(\w+)'\) applied to "
                       r"'\((.*)\)'")
_PYTHON_CLASS = re.compile(r"<class '(?:[\w]+\.)*(\w+)'>")
_RUST_ADVICE = re.compile(r"(?<=[.:]) (?:CEL does not coerce|Check ).*$")
_OPERATORS = {"addition_add": "+", "addition_sub": "-", "multiplication_mul": "*",
              "multiplication_div": "/", "multiplication_mod": "%", "relation_lt": "<",
              "relation_le": "<=", "relation_gt": ">", "relation_ge": ">=",
              "relation_eq": "==", "relation_ne": "!=", "relation_in": "in",
              "unary_neg": "-", "unary_not": "!"}
_CEL_TYPES = {"Decimal": "decimal", "StringType": "string", "IntType": "int", "UintType": "uint",
              "DoubleType": "double", "BoolType": "bool", "BytesType": "bytes",
              "ListType": "list", "MapType": "map", "TimestampType": "timestamp",
              "DurationType": "duration", "NoneType": "null", "UUID": "uuid", "date": "date"}
MESSAGE_CHARS_MAX = 200


def _describe(error: BaseException) -> str:
    """What went wrong, in the tran code's terms: no engine internals, at most a line."""
    if isinstance(error, CELParseError) and getattr(error, "line", None) is not None:
        return f"syntax error at line {error.line}, column {error.column}"
    text = str(error.args[0]) if isinstance(error, CELEvalError) and error.args else ""
    text = text or str(error) or type(error).__name__
    if "decimal.Inexact" in text or "decimal.Rounded" in text:
        return "decimal arithmetic would round; only exact results are accepted"
    first_line = text.splitlines()[0]
    wrapped = _PYTHON_FUNCTION_ERROR.search(first_line)
    if wrapped:
        return wrapped.group(1)
    overload = _OVERLOAD.search(first_line)
    if overload:
        operator = _OPERATORS.get(overload.group(1), overload.group(1))
        operands = [_CEL_TYPES.get(name, name.lower())
                    for name in _PYTHON_CLASS.findall(overload.group(2))]
        return f"no operator {operator} for ({', '.join(operands)})"
    cleaned = _RUST_ADVICE.sub("", _ACTIVATION.sub("", first_line)).rstrip(" .")
    return cleaned[:MESSAGE_CHARS_MAX]


# -- static analysis -----------------------------------------------------------------------

_STRING_LITERAL = re.compile(
    r"""(?:[rRbB]{0,2})(?:'''(?:\\.|[^\\])*?'''|\"\"\"(?:\\.|[^\\])*?\"\"\"|'(?:\\.|[^\\'\n])*'|"(?:\\.|[^\\"\n])*")""",
    re.DOTALL,
)
_ROOT_USE = re.compile(r"(?<![\w.])([A-Za-z_]\w*)(\s*\.\s*([A-Za-z_]\w*))?")

_SIMPLE_STRING = re.compile(r"""'([^'\\\n]*)'|"([^"\\\n]*)\"""")
_LITERAL_CALL = re.compile(
    r"""(uuid|date|timestamp|decimal)\(\s*(?:'([^'\\\n]*)'|"([^"\\\n]*)")\s*\)"""
)
_REFERENCE = re.compile(r"([A-Za-z_]\w*)\s*\.\s*([A-Za-z_]\w*)")
_INT = re.compile(r"-?\d+")
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def _strip_strings(source: str) -> str:
    return _STRING_LITERAL.sub('""', source)


def decimal_free(source: str, decimal_fields: Mapping[str, frozenset[str] | None]) -> bool:
    """True when ``source`` cannot read a decimal value nor make one.

    ``decimal_fields`` maps a root to the names of its fields that may hold a decimal, or to
    None when any part of that root may. A root used other than as ``root.field`` (indexed,
    passed whole) counts as reading all of it. String literals are blanked first so text
    inside quotes never counts; the check errs towards cel-python, which is always exact.
    """
    stripped = _strip_strings(source)
    if re.search(r"(?<![\w.])decimal\s*\(", stripped):
        return False
    for match in _ROOT_USE.finditer(stripped):
        root, field = match.group(1), match.group(3)
        if root not in decimal_fields:
            continue
        tainted = decimal_fields[root]
        if tainted is None:
            return False
        if field is None:
            if tainted:
                return False
        elif field in tainted:
            return False
    return True


def _fold(source: str, roots: Iterable[str]) -> ConstantExpression | ReferenceExpression | None:
    text = source.strip()
    match = _SIMPLE_STRING.fullmatch(text)
    if match:
        value = match.group(1) if match.group(1) is not None else match.group(2)
        return ConstantExpression(source, value)
    if text in ENUM_IDENTIFIERS:
        return ConstantExpression(source, ENUM_IDENTIFIERS[text])
    if text in ("true", "false"):
        return ConstantExpression(source, text == "true")
    if text == "null":
        return ConstantExpression(source, None)
    if _INT.fullmatch(text) and _INT64_MIN <= int(text) <= _INT64_MAX:
        return ConstantExpression(source, int(text))
    call = _LITERAL_CALL.fullmatch(text)
    if call:
        argument = call.group(2) if call.group(2) is not None else call.group(3)
        try:
            return ConstantExpression(source, _fold_call(call.group(1), argument))
        except ExpressionError:
            return None  # let the engine report it, with the same message every time
    known = frozenset(roots)
    reference = _REFERENCE.fullmatch(text)
    if reference and reference.group(1) in known:
        return ReferenceExpression(source, reference.group(1), reference.group(2))
    if text in known:
        return ReferenceExpression(source, text, None)
    return None


_BRANCH = r"""'[^'\\\n]*'|"[^"\\\n]*"|-?\d+|[A-Za-z_]\w*"""
_CONDITIONAL = re.compile(
    rf"([A-Za-z_]\w*(?:\s*\.\s*[A-Za-z_]\w*)?)\s*\?\s*({_BRANCH})\s*:\s*({_BRANCH})"
)


def _fold_conditional(
    source: str, roots: Iterable[str], otherwise: Expression
) -> ConditionalExpression | None:
    match = _CONDITIONAL.fullmatch(source.strip())
    if match is None:
        return None
    condition = _fold(match.group(1), roots)
    if_true, if_false = _fold(match.group(2), roots), _fold(match.group(3), roots)
    if not (isinstance(condition, ReferenceExpression)
            and isinstance(if_true, ConstantExpression)
            and isinstance(if_false, ConstantExpression)):  # fmt: skip
        return None
    return ConditionalExpression(source, condition, if_true, if_false, otherwise)


def _fold_call(function: str, argument: str) -> object:
    if function == "uuid":
        return _uuid(argument)
    if function == "date":
        return _date(argument)
    if function == "decimal":
        return _decimal(argument)
    try:
        moment = celtypes.TimestampType(argument)
    except Exception as exc:
        raise ExpressionError(str(exc)) from exc
    return to_plain(moment)


# -- the exact decimal fast path ----------------------------------------------------------
#
# Decimal arithmetic as tran codes write it (``decimal(params.amount) * decimal('0.01')``,
# ``params.amount > decimal('5')``) is also valid Python syntax. Such a source is compiled
# to closures over Python's Decimal, run in MONEY_CONTEXT (rounding traps). The closures only
# answer when every operand has a type whose CEL meaning they know (int, Decimal, str);
# anything else, and every error, is handed to cel-python, so results and failures are the
# reference engine's by construction. The conformance test checks it on the whole suite.

_Fast = Callable[[Mapping[str, object]], object]


class _Defer(Exception):  # noqa: N818 - a signal, not an error
    """The fast path cannot answer with certainty; cel-python must."""


def _number(value: object) -> Decimal | int:
    if isinstance(value, Decimal) or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise _Defer


def _arithmetic(operator_node: ast.operator, left: _Fast, right: _Fast) -> _Fast | None:
    operation = {ast.Add: MONEY_CONTEXT.add, ast.Sub: MONEY_CONTEXT.subtract,
                 ast.Mult: MONEY_CONTEXT.multiply}.get(type(operator_node))  # fmt: skip
    if operation is None:
        return None

    def run(roots: Mapping[str, object]) -> object:
        a, b = left(roots), right(roots)
        if isinstance(a, str) and isinstance(b, str) and operation is MONEY_CONTEXT.add:
            return a + b
        x, y = _number(a), _number(b)
        if isinstance(x, int) and isinstance(y, int):
            raise _Defer  # int64 overflow semantics belong to the engine
        return operation(x, y)

    return run


_COMPARISONS: Final = {ast.Lt: "__lt__", ast.LtE: "__le__", ast.Gt: "__gt__",
                       ast.GtE: "__ge__", ast.Eq: "__eq__", ast.NotEq: "__ne__"}  # fmt: skip


def _comparison(operator_node: ast.cmpop, left: _Fast, right: _Fast) -> _Fast | None:
    method = _COMPARISONS.get(type(operator_node))
    if method is None:
        return None

    def run(roots: Mapping[str, object]) -> object:
        a, b = left(roots), right(roots)
        if not (isinstance(a, str) and isinstance(b, str)):
            a, b = _number(a), _number(b)
        return bool(getattr(a, method)(b))

    return run


def _fast_node(node: ast.AST, roots: frozenset[str]) -> _Fast | None:
    if isinstance(node, ast.Constant) and type(node.value) in (str, int):
        value = node.value
        return lambda _: value
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        root, name = node.value.id, node.attr
        if root not in roots:
            return None

        def field(bound: Mapping[str, object]) -> object:
            container = bound.get(root)
            if not isinstance(container, Mapping) or name not in container:
                raise _Defer
            return container[name]

        return field
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        if node.func.id != "decimal" or len(node.args) != 1 or node.keywords:
            return None
        inner = _fast_node(node.args[0], roots)
        if inner is None:
            return None

        def to_decimal(bound: Mapping[str, object]) -> object:
            value = inner(bound)
            if isinstance(value, Decimal):
                return value
            if isinstance(value, str | int) and not isinstance(value, bool):
                parsed = parse_decimal(value)
                if isinstance(parsed, Decimal):
                    return parsed
            raise _Defer

        return to_decimal
    if isinstance(node, ast.BinOp):
        left, right = _fast_node(node.left, roots), _fast_node(node.right, roots)
        return None if left is None or right is None else _arithmetic(node.op, left, right)
    if isinstance(node, ast.Compare) and len(node.ops) == 1:
        left, right = _fast_node(node.left, roots), _fast_node(node.comparators[0], roots)
        if left is None or right is None:
            return None
        return _comparison(node.ops[0], left, right)
    return None


@dataclass(frozen=True, slots=True)
class DecimalExpression:
    """Exact decimal arithmetic evaluated natively, deferring to cel-python when unsure."""

    source: str
    run: _Fast
    reference: Expression
    engine: str = "decimal"

    def evaluate(self, activation: Activation) -> object:
        """Evaluate natively; on any doubt or error, answer what cel-python answers."""
        try:
            return self.run(activation.roots)
        except (_Defer, ArithmeticError, TypeError):
            return self.reference.evaluate(activation)


def _same_literals(tree: ast.Expression, text: str) -> bool:
    # Python reads some text CEL refuses: adjacent strings ('a' 'b'), 1_000, 0o7. Accept a
    # tree only when each literal is spelt the way CEL spells it.
    strings = sum(isinstance(n, ast.Constant) and isinstance(n.value, str) for n in ast.walk(tree))
    if strings != len(_STRING_LITERAL.findall(text)):
        return False
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and type(node.value) is int:
            segment = ast.get_source_segment(text, node) or ""
            if not segment.isdigit() or node.value > _INT64_MAX:
                return False
    return True


def _compile_decimal(source: str, roots: Iterable[str]) -> DecimalExpression | None:
    text = source.strip()
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError:
        return None
    if not _same_literals(tree, text):
        return None
    run = _fast_node(tree.body, frozenset(roots))
    if run is None:
        return None
    return DecimalExpression(source, run, _compile_celpy(source))


def _compile_celpy(source: str) -> CelPythonExpression | FailingExpression:
    try:
        ast = _CELPY_ENV.compile(source)
        program = _CELPY_ENV.program(ast, functions=_CELPY_FUNCTIONS)
    except Exception as exc:
        return FailingExpression(source, f"does not compile: {_describe(exc)}")
    return CelPythonExpression(source, program)


def _compile_rust(source: str) -> RustExpression | None:
    try:
        program = cel.compile(source)
    except Exception:
        return None
    functions = frozenset(program.functions())
    if not functions <= _RUST_FUNCTIONS:
        return None
    needs = (frozenset(program.variables()), functions & frozenset(_SHARED_FUNCTIONS))
    return RustExpression(source, program, needs)


def compile_expression(
    source: str,
    *,
    roots: Iterable[str],
    decimal_fields: Mapping[str, frozenset[str] | None],
    policy: EnginePolicy = EnginePolicy.AUTO,
) -> Expression:
    """Compile ``source`` once into the cheapest implementation that is exact for it.

    ``roots`` are the names the activation will bind; ``decimal_fields`` says which of their
    fields may hold decimals (see ``decimal_free``). A source that does not compile yields
    an expression that fails when evaluated, so the error surfaces as a typed rejection.
    """
    if policy is EnginePolicy.AUTO:
        folded = _fold(source, roots)
        if folded is not None:
            return folded
    general = _compile_general(source, roots, decimal_fields, policy)
    if policy is EnginePolicy.AUTO:
        return _fold_conditional(source, roots, general) or general
    return general


def _compile_general(
    source: str,
    roots: Iterable[str],
    decimal_fields: Mapping[str, frozenset[str] | None],
    policy: EnginePolicy,
) -> Expression:
    if policy is not EnginePolicy.REFERENCE and decimal_free(source, decimal_fields):
        rust = _compile_rust(source)
        if rust is not None:
            return rust
    if policy is EnginePolicy.AUTO:
        fast = _compile_decimal(source, roots)
        if fast is not None:
            return fast
    return _compile_celpy(source)


def compile_reference(source: str) -> Expression:
    """Compile ``source`` for cel-python alone, unfolded: the engine results are judged by."""
    return _compile_celpy(source)


def compile_rust(source: str) -> Expression | None:
    """Compile ``source`` for the Rust engine alone, or None if it uses what Rust lacks."""
    return _compile_rust(source)
