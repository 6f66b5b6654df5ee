"""Commands the ledger decides: post a transaction through a tran code, or void one.

Both carry the id that makes them idempotent. A void's own transaction id is derived from
the id of the transaction it voids, so a re-sent void is recognised as a duplicate.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID, uuid5

from pydantic import Field, ValidationError, model_validator

from ledger_core.base import LedgerModel
from ledger_core.bounded_fields import Code, JsonObject, bound_code
from ledger_core.decisions import Rejected
from ledger_core.enums import Enforcement
from ledger_core.input_bounds import (
    CODE_LENGTH_MAX,
    JSON_SIZE_MAX,
    json_value_problem,
    label_problem,
    shown,
)
from ledger_core.rejections import RejectionCode

__all__ = [
    "Command",
    "PostTransaction",
    "VoidTransaction",
    "parse_command",
    "void_transaction_id",
]


def void_transaction_id(original_id: UUID) -> UUID:
    """Return the transaction id of the void of ``original_id`` (the same on every call)."""
    return uuid5(original_id, "void")


class PostTransaction(LedgerModel):
    """Post ``params`` through a tran code; ``transaction_id`` is the idempotency key."""

    transaction_id: UUID
    tran_code: Code
    tran_code_version: int | None = Field(default=None, ge=1)
    params: JsonObject = Field(default_factory=dict)
    override_enforcement: Enforcement | None = None


class VoidTransaction(LedgerModel):
    """Reverse the transaction ``void_of`` with the opposite-signed copy of its entries.

    The void's own id defaults to one derived from ``void_of``, so a re-sent void is a
    duplicate; a caller that names its own id gets ``transaction_already_voided`` if another
    void got there first.
    """

    void_of: UUID
    transaction_id: UUID = Field(default=None, validate_default=False)  # type: ignore[assignment]
    override_enforcement: Enforcement | None = None

    @model_validator(mode="after")
    def _derive_id(self) -> VoidTransaction:
        if self.transaction_id is None:
            object.__setattr__(self, "transaction_id", void_transaction_id(self.void_of))
        return self


Command = PostTransaction | VoidTransaction


def parse_command(payload: Mapping[str, Any]) -> Command | Rejected:
    """Validate a decoded command (snake_case or camelCase keys) or reject it as invalid.

    A payload with ``voidOf`` is a void; anything else is a posting. The usual payload (the
    processor's: snake_case, canonical ids) is checked field by field without pydantic;
    any other, or one a check refuses, is validated by the models, which name the error.
    """
    checked = _checked_command(payload)
    if checked is not None:
        return checked
    bounded = json_value_problem(payload, text_length_max=JSON_SIZE_MAX)
    if bounded is not None:
        # Checked before pydantic, which cannot even report an error about a lone surrogate.
        raw_id = payload.get("transactionId", payload.get("transaction_id"))
        return Rejected(transaction_id=_uuid_or_none(raw_id), code=bounded.code,
                        message=f"the command is invalid: {bounded.path}: {bounded.reason}",
                        field=bounded.path, value=None)
    is_void = "voidOf" in payload or "void_of" in payload
    model: type[PostTransaction] | type[VoidTransaction] = (
        VoidTransaction if is_void else PostTransaction
    )
    try:
        return model.model_validate(dict(payload))
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or None
        raw_id = payload.get("transactionId", payload.get("transaction_id"))
        value = first.get("input")
        return Rejected(
            transaction_id=_uuid_or_none(raw_id),
            code=bound_code(first) or RejectionCode.COMMAND_INVALID,
            message=f"{model.__name__} is invalid: {field}: {first['msg']}",
            field=field,
            value=None if isinstance(value, dict) else shown(repr(value)),
        )


def _uuid_or_none(raw: object) -> UUID | None:
    if isinstance(raw, UUID):
        return raw
    if isinstance(raw, str):
        try:
            return UUID(raw)
        except ValueError:
            return None
    return None


_POST_FIELDS = frozenset({"transaction_id", "tran_code", "tran_code_version", "params",
                          "override_enforcement"})
_VOID_FIELDS = frozenset({"void_of", "transaction_id", "override_enforcement"})
_ENFORCEMENTS = {e.value: e for e in Enforcement}


def _checked_command(payload: Mapping[str, Any]) -> Command | None:
    """The command, when every field passes a check at least as strict as the models';
    None sends the payload to the models."""
    override = payload.get("override_enforcement")
    if override is not None and override not in _ENFORCEMENTS:
        return None
    enforcement = None if override is None else _ENFORCEMENTS[override]
    if "void_of" in payload:
        void_of = _canonical_uuid(payload["void_of"])
        given = "transaction_id" in payload
        transaction_id = _canonical_uuid(payload["transaction_id"]) if given else None
        if not payload.keys() <= _VOID_FIELDS or void_of is None or (
                given and transaction_id is None):
            return None
        return VoidTransaction.model_construct(
            void_of=void_of, transaction_id=transaction_id or void_transaction_id(void_of),
            override_enforcement=enforcement)
    transaction_id = _canonical_uuid(payload.get("transaction_id"))
    tran_code, version = payload.get("tran_code"), payload.get("tran_code_version")
    params = payload.get("params", {})
    if (not payload.keys() <= _POST_FIELDS or transaction_id is None
            or type(tran_code) is not str or label_problem(tran_code, CODE_LENGTH_MAX)
            or not (version is None or (type(version) is int and version >= 1))
            or type(params) is not dict or any(type(key) is not str for key in params)
            or json_value_problem(params) is not None):
        return None
    return PostTransaction.model_construct(
        transaction_id=transaction_id, tran_code=tran_code, tran_code_version=version,
        params=params, override_enforcement=enforcement)


def _canonical_uuid(raw: object) -> UUID | None:
    """A UUID written in its canonical form (36 characters), else None."""
    if type(raw) is not str or len(raw) != 36 or raw[8] != "-" or raw[13] != "-" \
            or raw[18] != "-" or raw[23] != "-":
        return None
    try:
        return UUID(raw)
    except ValueError:
        return None
