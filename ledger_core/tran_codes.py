"""Tran codes: versioned templates, written in CEL, that turn params into a transaction.

Every field of the transaction and entry templates is a CEL expression held as a string;
``ledger_core.expansion`` compiles and evaluates them.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pydantic import Field

from ledger_core.base import LedgerModel
from ledger_core.enums import ParamType, Status

__all__ = ["ParamDefinition", "TranCode", "TranCodeEntry", "TranCodeTransaction"]


class ParamDefinition(LedgerModel):
    """A typed input of a tran code; with no ``default`` (a CEL expression) it is required."""

    name: str
    type: ParamType = ParamType.STRING
    default: str | None = None
    description: str | None = None


class TranCodeTransaction(LedgerModel):
    """CEL for the transaction's fields; omitted ones take the documented defaults."""

    effective: str | None = None
    journal_id: str | None = None
    correlation_id: str | None = None
    external_id: str | None = None
    description: str | None = None
    metadata: str | None = None


class TranCodeEntry(LedgerModel):
    """CEL for one entry; ``entry_type``, ``layer`` and ``condition`` are optional."""

    account_id: str
    units: str
    currency: str
    direction: str
    entry_type: str | None = None
    layer: str | None = None
    description: str | None = None
    metadata: str | None = None
    condition: str | None = None


class TranCode(LedgerModel):
    """A versioned transaction template; only postings through a tran code write entries."""

    tran_code_id: UUID
    code: str
    version: int = Field(default=1, ge=1)
    status: Status = Status.ACTIVE
    description: str = ""
    params: tuple[ParamDefinition, ...] = ()
    vars: dict[str, str] = Field(default_factory=dict)
    transaction: TranCodeTransaction = TranCodeTransaction()
    entries: tuple[TranCodeEntry, ...]
    metadata: dict[str, Any] | None = None
