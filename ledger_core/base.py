"""The one pydantic base every ledger record derives from.

Records are immutable. Python attributes are snake_case; the wire and GraphQL shape is
camelCase, so ``model_validate`` accepts Twisp-shaped input (``accountId``) as well as the
Python names, and ``model_dump(by_alias=True)`` writes camelCase back.

The decision hot path builds records from values it has already checked; ``trusted``
builds them without validation, several times faster than pydantic's ``model_construct``.
"""

from __future__ import annotations

from typing import Any, ClassVar, Self

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

    _trusted_defaults: ClassVar[dict[str, Any] | None] = None

    @classmethod
    def trusted(cls, **values: Any) -> Self:
        """Build a record from values already known to be valid, skipping validation.

        Only for the engine's own hot path: callers pass every required field with a value
        of the right type. Defaults fill the rest (none of the hot records uses a factory).
        """
        defaults = cls.__dict__.get("_trusted_defaults")
        if defaults is None:
            defaults = {
                name: field.default
                for name, field in cls.model_fields.items()
                if not field.is_required() and field.default_factory is None
            }
            cls._trusted_defaults = defaults
        data = {**defaults, **values}
        assert len(data) == len(cls.model_fields), f"{cls.__name__}: fields missing"
        record = cls.__new__(cls)
        object.__setattr__(record, "__dict__", data)
        object.__setattr__(record, "__pydantic_fields_set__", set(values))
        object.__setattr__(record, "__pydantic_extra__", None)
        object.__setattr__(record, "__pydantic_private__", None)
        return record
