"""The tran code engine: compile a tran code once, then expand params into draft entries.

Order of evaluation, as in Twisp: params are coerced and their defaults applied; ``vars``
are evaluated in declaration order (each sees params and the vars before it); then the
transaction template; then each entry template in order. An entry whose ``condition`` is
false is skipped. Drafts keep ``units`` and ``currency`` raw: judging them is
``ledger_core.posting``'s job, so that their rejections keep their precedence.

Field paths in rejections use the tran code's wire names (``entries[1].accountId``), with
0-based template positions, so an engineer can find the expression at fault.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from ledger_core.enums import Direction, Layer, ParamType
from ledger_core.expressions import (
    Activation,
    EnginePolicy,
    Expression,
    ExpressionError,
    compile_expression,
    decimal_free,
)
from ledger_core.input_bounds import (
    CODE_LENGTH_MAX,
    DESCRIPTION_LENGTH_MAX,
    NAME_LENGTH_MAX,
    Problem,
    json_value_problem,
    label_problem,
    shown,
    text_problem,
)
from ledger_core.journals import DEFAULT_JOURNAL_ID
from ledger_core.params import coerce_param
from ledger_core.rejections import Rejection, RejectionCode
from ledger_core.tran_codes import TRAN_CODE_ROOTS, ParamDefinition, TranCode

__all__ = [
    "CompiledEntry",
    "CompiledTranCode",
    "EntryDraft",
    "TransactionDraft",
    "bind_params",
    "compile_tran_code",
    "expand",
]

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

# Parsing a uuid costs more than evaluating a folded template; account ids repeat a lot.
_UUIDS: dict[str, UUID] = {}
_UUIDS_MAX = 65_536
_DIRECTIONS = {d.value: d for d in Direction}
_LAYERS = {layer.value: layer for layer in Layer}


@dataclass(frozen=True, slots=True)
class CompiledParam:
    """A param definition with its default expression compiled."""

    definition: ParamDefinition
    default: Expression | None


@dataclass(frozen=True, slots=True)
class CompiledEntry:
    """An entry template with each field compiled; None where the template left it out."""

    position: int
    account_id: Expression
    units: Expression
    currency: Expression
    direction: Expression
    entry_type: Expression | None
    layer: Expression | None
    description: Expression | None
    metadata: Expression | None
    condition: Expression | None


@dataclass(frozen=True, slots=True)
class CompiledTranCode:
    """A tran code version ready to expand: every expression compiled exactly once."""

    tran_code: TranCode
    params: tuple[CompiledParam, ...]
    param_names: frozenset[str]
    vars: tuple[tuple[str, Expression], ...]
    transaction: tuple[tuple[str, Expression], ...]
    entries: tuple[CompiledEntry, ...]

    def expressions(self) -> tuple[tuple[str, Expression], ...]:
        """Every compiled expression with its field path, in evaluation order."""
        found: list[tuple[str, Expression]] = []
        for param in self.params:
            if param.default is not None:
                found.append((f"params.{param.definition.name}.default", param.default))
        found.extend((f"vars.{name}", expression) for name, expression in self.vars)
        found.extend((f"transaction.{name}", e) for name, e in self.transaction)
        for entry in self.entries:
            for name in _ENTRY_FIELDS:
                expression = getattr(entry, name)
                if expression is not None:
                    found.append((_entry_path(entry.position, name), expression))
        return tuple(found)


@dataclass(frozen=True, slots=True)
class TransactionDraft:
    """The transaction template's values after evaluation and defaults."""

    journal_id: UUID
    effective: date
    correlation_id: str
    external_id: str | None
    description: str | None
    metadata: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class EntryDraft:
    """One entry to write; ``units`` and ``currency`` are still unchecked CEL results."""

    position: int
    account_id: UUID
    units: object
    currency: object
    direction: Direction
    entry_type: str
    layer: Layer
    description: str | None
    metadata: dict[str, Any] | None


_ENTRY_FIELDS = (
    "condition", "account_id", "units", "currency", "direction", "entry_type", "layer",
    "description", "metadata",
)  # fmt: skip
_TRANSACTION_FIELDS = (
    "effective", "journal_id", "correlation_id", "external_id", "description", "metadata",
)  # fmt: skip
_WIRE_NAMES = {
    "account_id": "accountId", "entry_type": "entryType", "journal_id": "journalId",
    "correlation_id": "correlationId", "external_id": "externalId",
}  # fmt: skip


def _entry_path(position: int, name: str) -> str:
    return f"entries[{position}].{_WIRE_NAMES.get(name, name)}"


# -- compilation ---------------------------------------------------------------------------

_CACHE: dict[tuple[UUID, int, EnginePolicy], CompiledTranCode] = {}
_CACHE_MAX = 4096


def compile_tran_code(
    tran_code: TranCode, policy: EnginePolicy = EnginePolicy.AUTO
) -> CompiledTranCode:
    """Return ``tran_code`` compiled, from a cache keyed by tran code id and version.

    A version is immutable, so a hit is reused as long as it was compiled from an equal
    definition; a different definition under the same key is recompiled.
    """
    key = (tran_code.tran_code_id, tran_code.version, policy)
    cached = _CACHE.get(key)
    if cached is not None and cached.tran_code is tran_code:
        return cached
    if cached is not None and cached.tran_code == tran_code:
        # An equal definition held as another object (a catalog reread, a copy): remember
        # this object, so the next posting hits by identity instead of a deep comparison.
        compiled = replace(cached, tran_code=tran_code)
        _CACHE[key] = compiled
        return compiled
    compiled = _compile(tran_code, policy)
    if len(_CACHE) >= _CACHE_MAX:
        _CACHE.clear()
    _CACHE[key] = compiled
    return compiled


def _compile(tran_code: TranCode, policy: EnginePolicy) -> CompiledTranCode:
    decimal_params = frozenset(
        p.name for p in tran_code.params if p.type in (ParamType.DECIMAL, ParamType.JSON)
    )
    params_taint: dict[str, frozenset[str] | None] = {"params": decimal_params}

    def compile_with(source: str, taint: Mapping[str, frozenset[str] | None]) -> Expression:
        return compile_expression(
            source, roots=TRAN_CODE_ROOTS, decimal_fields=taint, policy=policy
        )

    params = tuple(
        CompiledParam(p, None if p.default is None else compile_with(p.default, params_taint))
        for p in tran_code.params
    )
    decimal_vars: set[str] = set()
    compiled_vars: list[tuple[str, Expression]] = []
    for name, source in tran_code.vars.items():
        taint = {"params": decimal_params, "vars": frozenset(decimal_vars)}
        expression = compile_with(source, taint)
        compiled_vars.append((name, expression))
        if not decimal_free(source, taint):
            decimal_vars.add(name)
    taint = {"params": decimal_params, "vars": frozenset(decimal_vars)}
    template = tran_code.transaction
    transaction = tuple(
        (name, compile_with(getattr(template, name), taint))
        for name in _TRANSACTION_FIELDS
        if getattr(template, name) is not None
    )

    def optional(source: str | None) -> Expression | None:
        return None if source is None else compile_with(source, taint)

    entries = tuple(
        CompiledEntry(
            position=position,
            account_id=compile_with(entry.account_id, taint),
            units=compile_with(entry.units, taint),
            currency=compile_with(entry.currency, taint),
            direction=compile_with(entry.direction, taint),
            entry_type=optional(entry.entry_type),
            layer=optional(entry.layer),
            description=optional(entry.description),
            metadata=optional(entry.metadata),
            condition=optional(entry.condition),
        )
        for position, entry in enumerate(tran_code.entries)
    )
    return CompiledTranCode(
        tran_code=tran_code,
        params=params,
        param_names=frozenset(p.name for p in tran_code.params),
        vars=tuple(compiled_vars),
        transaction=transaction,
        entries=entries,
    )


# -- params --------------------------------------------------------------------------------


def bind_params(
    compiled: CompiledTranCode, raw: Mapping[str, object], transaction_id: UUID
) -> dict[str, object] | Rejection:
    """Coerce the posted params and apply defaults, or return the first broken rule.

    Precedence inside this step: a required param missing, then a value of the wrong type,
    then a param the tran code does not declare, then a default that fails to evaluate.
    """
    for param in compiled.params:
        name = param.definition.name
        if raw.get(name) is None and param.default is None:
            return Rejection(
                code=RejectionCode.PARAM_MISSING,
                message=f"params.{name} is required by tran code "
                f"{compiled.tran_code.code} and was not given",
                field=f"params.{name}",
            )
    bound: dict[str, object] = {}
    for param in compiled.params:
        name = param.definition.name
        value = raw.get(name)
        if value is None:
            continue
        coerced, reason = coerce_param(param.definition.type, value)
        if reason is not None:
            return _type_invalid(name, param.definition.type, value, reason)
        bound[name] = coerced
    for name in raw:
        if name not in compiled.param_names:
            return Rejection(
                code=RejectionCode.PARAM_UNKNOWN,
                message=f"params.{name} is not a param of tran code {compiled.tran_code.code}"
                f" (declared: {', '.join(sorted(compiled.param_names)) or 'none'})",
                field=f"params.{name}",
                value=_show(raw[name]),
            )
    for param in compiled.params:
        name = param.definition.name
        if name in bound or param.default is None:
            continue
        activation = Activation({"params": bound, "transaction_id": str(transaction_id)})
        try:
            value = param.default.evaluate(activation)
        except ExpressionError as error:
            return _cel_failed(f"params.{name}.default", param.default.source, str(error))
        coerced, reason = coerce_param(param.definition.type, value)
        if reason is not None:
            return _type_invalid(name, param.definition.type, value, f"default: {reason}")
        bound[name] = coerced
    return bound


def _type_invalid(name: str, param_type: ParamType, value: object, reason: str) -> Rejection:
    return Rejection(
        code=RejectionCode.PARAM_TYPE_INVALID,
        message=f"params.{name} = {_show(value)} is not a valid {param_type.value}: {reason}",
        field=f"params.{name}",
        value=_show(value),
    )


def _cel_failed(field: str, source: str, reason: str) -> Rejection:
    return Rejection(
        code=RejectionCode.CEL_EVALUATION_FAILED,
        message=f"{field}: CEL {source!r} failed: {reason}",
        field=field,
        value=source,
    )


def _show(value: object) -> str:
    return shown(repr(value) if not isinstance(value, str) else f'"{value}"', 80)


# -- expansion -----------------------------------------------------------------------------


class _InvalidError(Exception):
    """Internal: a template value failed; carries the rejection out of nested helpers."""

    def __init__(self, rejection: Rejection) -> None:
        super().__init__(rejection.message)
        self.rejection = rejection


def expand(
    compiled: CompiledTranCode,
    params: Mapping[str, object],
    transaction_id: UUID,
    today: date,
) -> tuple[TransactionDraft, tuple[EntryDraft, ...]] | Rejection:
    """Evaluate vars, the transaction template and each entry template, in that order."""
    try:
        activation = Activation(
            {"params": params, "vars": {}, "transaction_id": str(transaction_id)}
        )
        if compiled.vars:
            values: dict[str, object] = {}
            for name, expression in compiled.vars:
                values[name] = _evaluate(expression, activation, f"vars.{name}")
                activation = activation.with_root("vars", dict(values))
        transaction = _transaction(compiled, activation, transaction_id, today)
        entries = tuple(
            draft
            for entry in compiled.entries
            if (draft := _entry(compiled.tran_code.code, entry, activation)) is not None
        )
    except _InvalidError as invalid:
        return invalid.rejection
    return _out_of_bounds(transaction, entries) or (transaction, entries)


def _out_of_bounds(transaction: TransactionDraft, entries: Sequence[EntryDraft]
                   ) -> Rejection | None:
    """The first text or metadata the templates produced that no record may carry."""
    checks: list[tuple[str, Problem | None]] = [
        ("transaction.correlationId", text_problem(transaction.correlation_id,
                                                   NAME_LENGTH_MAX)),
    ]
    if transaction.external_id is not None:
        checks.append(("transaction.externalId",
                       text_problem(transaction.external_id, NAME_LENGTH_MAX)))
    if transaction.description is not None:
        checks.append(("transaction.description",
                       text_problem(transaction.description, DESCRIPTION_LENGTH_MAX)))
    if transaction.metadata is not None:
        checks.append(("transaction.metadata", json_value_problem(transaction.metadata)))
    for entry in entries:
        checks.append((_entry_path(entry.position, "entry_type"),
                       label_problem(entry.entry_type, CODE_LENGTH_MAX)))
        if entry.description is not None:
            checks.append((_entry_path(entry.position, "description"),
                           text_problem(entry.description, DESCRIPTION_LENGTH_MAX)))
        if entry.metadata is not None:
            checks.append((_entry_path(entry.position, "metadata"),
                           json_value_problem(entry.metadata)))
    for field, problem in checks:
        if problem is not None:
            return Rejection(code=problem.code, message=f"{field}: {problem.reason}",
                             field=field)
    return None


def _evaluate(expression: Expression, activation: Activation, field: str) -> object:
    try:
        return expression.evaluate(activation)
    except ExpressionError as error:
        raise _InvalidError(_cel_failed(field, expression.source, str(error))) from None


def _evaluate_entry(expression: Expression, activation: Activation, position: int,
                    name: str) -> object:  # fmt: skip
    # The field path is only built on failure: it costs more than a folded evaluation.
    try:
        return expression.evaluate(activation)
    except ExpressionError as error:
        field = _entry_path(position, name)
        raise _InvalidError(_cel_failed(field, expression.source, str(error))) from None


def _wrong(field: str, source: str, value: object, expected: str) -> _InvalidError:
    return _InvalidError(_cel_failed(field, source, f"expected {expected}, got {_show(value)}"))


def _transaction(
    compiled: CompiledTranCode, activation: Activation, transaction_id: UUID, today: date
) -> TransactionDraft:
    values: dict[str, object] = {}
    for name, expression in compiled.transaction:
        field = f"transaction.{_WIRE_NAMES.get(name, name)}"
        value = _evaluate(expression, activation, field)
        values[name] = _coerce_transaction_field(name, value, field, expression.source)
    effective = values.get("effective")
    journal_id = values.get("journal_id")
    correlation_id = values.get("correlation_id")
    return TransactionDraft(
        journal_id=journal_id if isinstance(journal_id, UUID) else DEFAULT_JOURNAL_ID,
        effective=effective if isinstance(effective, date) else today,
        correlation_id=correlation_id if isinstance(correlation_id, str)
        else str(transaction_id),
        external_id=_optional_str(values.get("external_id")),
        description=_optional_str(values.get("description")),
        metadata=_optional_map(values.get("metadata")),
    )  # fmt: skip


def _optional_str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _optional_map(value: object) -> dict[str, Any] | None:
    return value if isinstance(value, dict) else None


def _coerce_transaction_field(name: str, value: object, field: str, source: str) -> object:
    if value is None:
        return None
    if name == "effective":
        return _as_date(value, field, source)
    if name == "journal_id":
        return _as_uuid(value, field, source)
    if name == "metadata":
        if not isinstance(value, dict):
            raise _wrong(field, source, value, "a map")
        return value
    if not isinstance(value, str):
        raise _wrong(field, source, value, "a string")
    return value


def _as_date(value: object, field: str, source: str) -> date:
    if isinstance(value, datetime):
        return value.astimezone(UTC).date()
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise _wrong(field, source, value, "a date")


def _as_uuid(value: object, field: str, source: str) -> UUID:
    if isinstance(value, str):
        known = _UUIDS.get(value)
        if known is not None:
            return known
        try:
            parsed = UUID(value)
        except ValueError:
            pass
        else:
            if len(_UUIDS) >= _UUIDS_MAX:
                _UUIDS.clear()
            _UUIDS[value] = parsed
            return parsed
    raise _wrong(field, source, value, "a UUID")


def _entry(code: str, entry: CompiledEntry, activation: Activation) -> EntryDraft | None:
    position = entry.position
    if entry.condition is not None:
        condition = _evaluate_entry(entry.condition, activation, position, "condition")
        if not isinstance(condition, bool):
            field = _entry_path(position, "condition")
            raise _wrong(field, entry.condition.source, condition, "a boolean")
        if not condition:
            return None
    account_value = _evaluate_entry(entry.account_id, activation, position, "account_id")
    account_id = _UUIDS.get(account_value) if isinstance(account_value, str) else None
    if account_id is None:
        account_id = _as_uuid(
            account_value, _entry_path(position, "account_id"), entry.account_id.source
        )
    units = _evaluate_entry(entry.units, activation, position, "units")
    currency = _evaluate_entry(entry.currency, activation, position, "currency")
    direction_value = _evaluate_entry(entry.direction, activation, position, "direction")
    direction = _DIRECTIONS.get(direction_value) if isinstance(direction_value, str) else None
    if direction is None:
        field = _entry_path(position, "direction")
        raise _wrong(field, entry.direction.source, direction_value, "DEBIT or CREDIT")
    layer = Layer.SETTLED
    if entry.layer is not None:
        layer_value = _evaluate_entry(entry.layer, activation, position, "layer")
        found = _LAYERS.get(layer_value) if isinstance(layer_value, str) else None
        if found is None:
            field = _entry_path(position, "layer")
            raise _wrong(field, entry.layer.source, layer_value, "a layer")
        layer = found
    suffix = "_DR" if direction is Direction.DEBIT else "_CR"
    entry_type = code + suffix
    if entry.entry_type is not None:
        type_value = _evaluate_entry(entry.entry_type, activation, position, "entry_type")
        if not isinstance(type_value, str):
            field = _entry_path(position, "entry_type")
            raise _wrong(field, entry.entry_type.source, type_value, "a string")
        entry_type = type_value
    description = None
    if entry.description is not None:
        value = _evaluate_entry(entry.description, activation, position, "description")
        if value is not None and not isinstance(value, str):
            field = _entry_path(position, "description")
            raise _wrong(field, entry.description.source, value, "a string")
        description = value
    metadata = None
    if entry.metadata is not None:
        value = _evaluate_entry(entry.metadata, activation, position, "metadata")
        if value is not None and not isinstance(value, dict):
            field = _entry_path(position, "metadata")
            raise _wrong(field, entry.metadata.source, value, "a map")
        metadata = value
    return EntryDraft(
        position=position,
        account_id=account_id,
        units=units,
        currency=currency,
        direction=direction,
        entry_type=entry_type,
        layer=layer,
        description=description,
        metadata=metadata,
    )
