"""Tran codes: versioned templates, written in CEL, that turn params into a transaction.

Every field of the transaction and entry templates is a CEL expression held as a string;
``ledger_core.expansion`` compiles and evaluates them.
"""

from __future__ import annotations

import json
from decimal import Decimal
from uuid import UUID

import cel
from pydantic import Field, ValidationInfo, field_validator

from ledger_core.base import LedgerModel
from ledger_core.bounded_fields import CelSource, Code, Description, JsonObject
from ledger_core.enums import ParamType, Status
from ledger_core.params import coerce_param

__all__ = ["TRAN_CODE_ROOTS", "ParamDefinition", "TranCode", "TranCodeEntry",
           "TranCodeTransaction", "default_source"]

# Roots a tran code expression may read.
TRAN_CODE_ROOTS = ("params", "vars", "transaction_id")


class ParamDefinition(LedgerModel):
    """A typed input of a tran code; with no ``default`` (a CEL expression) it is required."""

    name: Code
    type: ParamType = ParamType.STRING
    default: CelSource | None = None
    description: Description | None = None

    @field_validator("default", mode="before")
    @classmethod
    def _default_as_cel(cls, default: object, info: ValidationInfo) -> object:
        param_type = info.data.get("type")
        return default if param_type is None else default_source(param_type, default)


def default_source(param_type: ParamType, default: object) -> object:
    """A param's default as the CEL that yields it.

    Twisp's documents write defaults both as CEL (``decimal('0')``, ``'USD'``) and as literals
    of the param's type (``0``, ``true``, ``"USD"``, ``"_unspecified_"``, a UUID). A number or
    boolean is that literal. A string that is a literal of the param's type (a UUID for a
    UUID, ``2022-09-21`` for a DATE, ``0.50`` for a DECIMAL) is that literal; for STRING and
    JSON params, a string is CEL when it compiles and reads only what a tran code's
    expressions may read, and otherwise the literal text. Anything else is left for
    validation to refuse.
    """
    if isinstance(default, bool):
        return "true" if default else "false"
    if isinstance(default, int | Decimal):
        default = format(default, "f") if isinstance(default, Decimal) else str(default)
        if param_type is ParamType.STRING:
            return json.dumps(default)
    if not isinstance(default, str):
        return default
    if param_type in (ParamType.STRING, ParamType.JSON):
        if _reads_only_roots(default) or param_type is ParamType.JSON:
            return default
        return json.dumps(default)  # a CEL string literal: JSON's escapes are CEL's
    value, problem = coerce_param(param_type, default)
    if problem is not None:
        return default
    if param_type is ParamType.DECIMAL:
        return f"decimal('{format(value, 'f')}')"
    if param_type in (ParamType.UUID, ParamType.DATE):
        return f"{param_type.value.lower()}('{value}')"
    if param_type is ParamType.TIMESTAMP:
        return f"timestamp('{default}')"
    if param_type is ParamType.BOOLEAN:
        return "true" if value else "false"
    return str(value)


def _reads_only_roots(source: str) -> bool:
    try:
        program = cel.compile(source)
    except ValueError:
        return False
    return frozenset(program.variables()) <= frozenset(TRAN_CODE_ROOTS)


class TranCodeTransaction(LedgerModel):
    """CEL for the transaction's fields; omitted ones take the documented defaults."""

    effective: CelSource | None = None
    journal_id: CelSource | None = None
    correlation_id: CelSource | None = None
    external_id: CelSource | None = None
    description: CelSource | None = None
    metadata: CelSource | None = None


class TranCodeEntry(LedgerModel):
    """CEL for one entry; ``entry_type``, ``layer`` and ``condition`` are optional."""

    account_id: CelSource
    units: CelSource
    currency: CelSource
    direction: CelSource
    entry_type: CelSource | None = None
    layer: CelSource | None = None
    description: CelSource | None = None
    metadata: CelSource | None = None
    condition: CelSource | None = None


class TranCode(LedgerModel):
    """A versioned transaction template; only postings through a tran code write entries."""

    tran_code_id: UUID
    code: Code
    version: int = Field(default=1, ge=1)
    status: Status = Status.ACTIVE
    description: Description = ""
    params: tuple[ParamDefinition, ...] = ()
    vars: dict[Code, CelSource] = Field(default_factory=dict)
    transaction: TranCodeTransaction = TranCodeTransaction()
    entries: tuple[TranCodeEntry, ...]
    metadata: JsonObject | None = None
