"""Tran codes: versioned templates, written in CEL, that turn params into a transaction.

Every field of the transaction and entry templates is a CEL expression held as a string;
``ledger_core.expansion`` compiles and evaluates them.
"""

from __future__ import annotations

from uuid import UUID

from pydantic import Field

from ledger_core.base import LedgerModel
from ledger_core.bounded_fields import CelSource, Code, Description, JsonObject
from ledger_core.enums import ParamType, Status

__all__ = ["ParamDefinition", "TranCode", "TranCodeEntry", "TranCodeTransaction"]


class ParamDefinition(LedgerModel):
    """A typed input of a tran code; with no ``default`` (a CEL expression) it is required."""

    name: Code
    type: ParamType = ParamType.STRING
    default: CelSource | None = None
    description: Description | None = None


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
