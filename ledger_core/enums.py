"""The closed vocabularies of the ledger: directions, layers, statuses, param types, enforcement.

They are string enums so that a value read from the wire (``"DEBIT"``) and the value bound as a
bare identifier inside CEL compare equal without any translation table.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Direction", "Enforcement", "Layer", "ParamType", "Status"]


class Direction(StrEnum):
    """The side of an entry, and the side on which an account's balance grows."""

    DEBIT = "DEBIT"
    CREDIT = "CREDIT"


class Layer(StrEnum):
    """The lifecycle layer of an entry; declared in the order ``available(layer)`` sums them."""

    SETTLED = "SETTLED"
    PENDING = "PENDING"
    ENCUMBRANCE = "ENCUMBRANCE"


class Status(StrEnum):
    """Lifecycle of journals, accounts and tran codes: LOCKED blocks postings, INACTIVE does not."""

    ACTIVE = "ACTIVE"
    LOCKED = "LOCKED"
    INACTIVE = "INACTIVE"


class ParamType(StrEnum):
    """The declared type of a tran code parameter; wire values are coerced to it exactly."""

    STRING = "STRING"
    INTEGER = "INTEGER"
    DECIMAL = "DECIMAL"
    BOOLEAN = "BOOLEAN"
    UUID = "UUID"
    DATE = "DATE"
    TIMESTAMP = "TIMESTAMP"
    JSON = "JSON"


class Enforcement(StrEnum):
    """What a breached velocity limit does: REJECT the posting, or post it with a warning."""

    REJECT = "REJECT"
    WARN = "WARN"


# The cumulative order of layers: available(layer) sums every layer up to and including it.
LAYER_RANK: dict[Layer, int] = {Layer.SETTLED: 0, Layer.PENDING: 1, Layer.ENCUMBRANCE: 2}
