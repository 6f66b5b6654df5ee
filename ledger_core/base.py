"""The two bases of the ledger's types: validated models for input, plain records for facts.

``LedgerModel`` (pydantic) is for what a client sends: catalog entities and commands are
validated where they enter. Python attributes are snake_case; the wire and GraphQL shape is
camelCase, so ``model_validate`` accepts Twisp-shaped input (``accountId``) as well as the
Python names, and ``model_dump(by_alias=True)`` writes camelCase back.

``Record`` (a frozen msgspec Struct) is for what the ledger decides and stores: entries,
transactions, balances, decisions. They are built from values already checked, millions of
times, so they are plain immutable records: about 0.2 µs to build, where a frozen
dataclass takes 6 µs and a pydantic model several more (docs/decisions/0008).
"""

from __future__ import annotations

import msgspec
from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

__all__ = ["LedgerModel", "Record"]


class LedgerModel(BaseModel):
    """Frozen, camelCase-aliased base model; unknown fields are refused so typos cannot pass."""

    model_config = ConfigDict(
        frozen=True,
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
    )


class Record(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """An immutable record the ledger decided; its JSON form (``msgspec.json``) is camelCase.

    Subclasses repeat ``frozen=True, kw_only=True`` so that type checkers see them too."""
