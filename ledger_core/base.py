"""The one pydantic base every ledger record derives from.

Records are immutable. Python attributes are snake_case; the wire and GraphQL shape is
camelCase, so ``model_validate`` accepts Twisp-shaped input (``accountId``) as well as the
Python names, and ``model_dump(by_alias=True)`` writes camelCase back.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

__all__ = ["LedgerModel"]


class LedgerModel(BaseModel):
    """Frozen, camelCase-aliased base model; unknown fields are refused so typos cannot pass."""

    model_config = ConfigDict(
        frozen=True,
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
    )
