"""Calculations: balances grouped by dimensions computed from each entry, in Twisp's shape.

A calculation names dimensions (an alias and a CEL value each) and an optional condition,
evaluated for every entry with ``context.vars.account``, ``context.vars.transaction`` and
``context.vars.entry``. The balance of an account (or set) under a calculation and a
dimension value is the fold of its entries whose condition holds and whose dimensions have
those values. A GLOBAL calculation applies to every account and set of every journal; a
LOCAL one only where it is attached (an account in a journal, or a set). With
``config.enable_effective_balances`` it can also be read by effective date or period,
whatever its journal's own switch. ``year``, ``month`` and ``day`` are reserved aliases:
Twisp uses them for the effective periods.

A deleted calculation is LOCKED; a LOCAL one must be detached everywhere first.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any
from uuid import UUID

from pydantic import field_validator

from ledger_core.accounts import Account
from ledger_core.base import LedgerModel
from ledger_core.bounded_fields import CelSource, Code, Description
from ledger_core.enums import Status
from ledger_core.expressions import Activation, Expression, ExpressionError, compile_expression
from ledger_core.journals import DEFAULT_JOURNAL_ID
from ledger_core.transactions import Entry, Transaction

__all__ = ["RESERVED_DIMENSIONS", "Calculation", "CalculationAttachment", "CalculationConfig",
           "CalculationScope", "DimensionKey", "compiled", "dimension_text", "dimensions_of"]

# Twisp's names for the effective date's periods.
RESERVED_DIMENSIONS = frozenset({"year", "month", "day"})
_ROOTS = ("context",)
# Any field of the context may hold a decimal (an entry's units, metadata).
_TAINT: Mapping[str, frozenset[str] | None] = {"context": None}


class CalculationScope(StrEnum):
    """Where a calculation applies."""

    GLOBAL = "GLOBAL"
    LOCAL = "LOCAL"


class DimensionKey(LedgerModel):
    """One dimension: its alias and the CEL that computes its value for an entry."""

    alias: Code
    value: CelSource


class CalculationConfig(LedgerModel):
    """Per-calculation switches."""

    enable_effective_balances: bool = False


class Calculation(LedgerModel):
    """A balance calculation: dimensions, a condition and a scope."""

    calculation_id: UUID
    code: Code
    description: Description = ""
    scope: CalculationScope = CalculationScope.GLOBAL
    dimensions: tuple[DimensionKey, ...] = ()
    condition: CelSource | None = None
    config: CalculationConfig = CalculationConfig()
    status: Status = Status.ACTIVE

    @field_validator("dimensions")
    @classmethod
    def _aliases_are_free(cls, dimensions: tuple[DimensionKey, ...]
                          ) -> tuple[DimensionKey, ...]:
        aliases = [d.alias for d in dimensions]
        reserved = sorted(RESERVED_DIMENSIONS.intersection(aliases))
        if reserved:
            raise ValueError(f"dimension {reserved[0]!r} is reserved for effective dates")
        if len(set(aliases)) != len(aliases):
            raise ValueError("two dimensions share an alias")
        return dimensions


class CalculationAttachment(LedgerModel):
    """A LOCAL calculation attached to an account in a journal, or to a set (in its own
    journal); ``detached`` is the record that ends it."""

    calculation_id: UUID
    account_id: UUID
    journal_id: UUID = DEFAULT_JOURNAL_ID
    detached: bool = False


_COMPILED: dict[str, Expression] = {}


def compiled(source: str) -> Expression:
    """The expression of a dimension or condition, compiled once."""
    found = _COMPILED.get(source)
    if found is None:
        if len(_COMPILED) > 4096:
            _COMPILED.clear()
        found = _COMPILED[source] = compile_expression(source, roots=_ROOTS,
                                                       decimal_fields=_TAINT)
    return found


def dimension_text(value: object) -> str:
    """A dimension's value as the text it is compared by (``true``, ``12.50``, a UUID)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal | int | UUID | date):
        return str(value)
    return value if isinstance(value, str) else str(value)


def dimensions_of(calculation: Calculation, entry: Entry, transaction: Transaction,
                  account: Account | None) -> dict[str, str] | None:
    """The entry's dimension values under ``calculation`` (as text), or None when its
    condition does not hold for the entry, or a dimension fails to evaluate."""
    activation = Activation({"context": {"vars": {
        "account": {} if account is None else {
            "accountId": str(account.account_id), "code": account.code, "name": account.name,
            "status": account.status.value, "metadata": account.metadata or {},
            "normalBalanceType": account.normal_balance_type.value},
        "transaction": {
            "transactionId": str(transaction.transaction_id), "tranCode": transaction.tran_code,
            "journalId": str(transaction.journal_id), "correlationId": transaction.correlation_id,
            "effective": transaction.effective.isoformat(),
            "description": transaction.description or "",
            "metadata": transaction.metadata or {}},
        "entry": _entry_vars(entry)}}})
    try:
        if calculation.condition is not None and \
                compiled(calculation.condition).evaluate(activation) is not True:
            return None
        return {d.alias: dimension_text(compiled(d.value).evaluate(activation))
                for d in calculation.dimensions}
    except ExpressionError:
        return None


def _entry_vars(entry: Entry) -> dict[str, Any]:
    return {"entryId": str(entry.entry_id), "accountId": str(entry.account_id),
            "journalId": str(entry.journal_id), "units": entry.units,
            "currency": entry.currency, "direction": entry.direction.value,
            "layer": entry.layer.value, "entryType": entry.entry_type,
            "description": entry.description or "", "metadata": entry.metadata or {}}
