"""ISO 8583 configurations: how a card processor's ISO 8583 messages are booked.

A configuration names the journal the card program posts in, the settlement account owed to
the network, the program's time zone (IANA; the local dates of the messages are read in it),
the processor, the message variant and the balance an authorization is judged against.

Two of Twisp's choices are narrowed to what this ledger does:

- ``processorSpec`` is a moov specification in Twisp; here it names one of the two message
  variants the ISO 8583 server reads, ``{"variant": "ascii"}`` (the default) or
  ``{"variant": "binary"}``.
- the open-to-buy balance is always available(PENDING): a hold is judged by the
  cardholder's no-overdraft limit on that layer, atomically with the posting, so a
  configuration that asked for another balance would promise what the ledger does not do.

A zone name is checked for its shape here and for its existence in the tz database only
when the catalog decides a change (``time_zone_problem``), so reading a record back never
depends on the reader's tz database.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID

from pydantic import AfterValidator, BeforeValidator, Field

from ledger_core.base import LedgerModel
from ledger_core.bounded_fields import Description
from ledger_core.enums import Status

__all__ = [
    "Iso8583Config",
    "Iso8583Processor",
    "MessageVariant",
    "OpenToBuy",
    "ProcessorSpec",
    "time_zone_problem",
]

TIME_ZONE_LENGTH_MAX = 64
# The tz database's own names: Area/Location, with letters, digits, '_', '-' and '+'.
_ZONE_NAME = re.compile(r"[A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+)*")


class Iso8583Processor(StrEnum):
    """The card processor whose ISO 8583 messages a configuration reads (Twisp's
    ``ISO8583ProcessorType``)."""

    UNSPECIFIED = "UNSPECIFIED"
    VISA_DIRECT = "VISA_DIRECT"
    GALILEO = "GALILEO"
    MARQETA = "MARQETA"
    LITHIC = "LITHIC"
    HIGHNOTE = "HIGHNOTE"
    Q2 = "Q2"
    FIRST_DATA = "FIRST_DATA"
    I2C = "I2C"


class OpenToBuy(StrEnum):
    """The balance authorizations and balance inquiries are judged against (Twisp's
    ``OpenToBuyType``); only AVAILABLE_PENDING is accepted."""

    AVAILABLE_ENCUMBRANCE = "AVAILABLE_ENCUMBRANCE"
    AVAILABLE_PENDING = "AVAILABLE_PENDING"
    AVAILABLE_SETTLED = "AVAILABLE_SETTLED"
    VELOCITY_BALANCE = "VELOCITY_BALANCE"


class MessageVariant(StrEnum):
    """The wire variants of the ISO 8583 server (``iso8583_spec.spec``)."""

    ASCII = "ascii"
    BINARY = "binary"


class ProcessorSpec(LedgerModel):
    """The message variant a processor sends."""

    variant: MessageVariant = MessageVariant.ASCII


def _variant_only(value: Any) -> Any:
    """None is the default spec; anything but ``{"variant": ...}`` is refused by name."""
    if value is None:
        return ProcessorSpec()
    if isinstance(value, ProcessorSpec) or (isinstance(value, Mapping)
                                            and set(value) <= {"variant"}):
        return value
    raise ValueError('processorSpec names a message variant, {"variant": "ascii"} or '
                     '{"variant": "binary"}; other ISO 8583 specifications are not supported')


def _judged_on_pending(value: OpenToBuy) -> OpenToBuy:
    if value is not OpenToBuy.AVAILABLE_PENDING:
        raise ValueError(
            f"openToBuy {value.value} is not supported: holds are judged against "
            "available(PENDING) by the cardholder's no-overdraft limit, atomically with the "
            "posting, so AVAILABLE_PENDING is the only open-to-buy balance")
    return value


def _zone_name(value: str) -> str:
    if len(value) > TIME_ZONE_LENGTH_MAX or not _ZONE_NAME.fullmatch(value):
        raise ValueError("a time zone is an IANA name such as America/Chicago")
    return value


def _active_or_locked(status: Status) -> Status:
    if status not in (Status.ACTIVE, Status.LOCKED):
        raise ValueError("an ISO 8583 configuration is ACTIVE or LOCKED (deleted)")
    return status


class Iso8583Config(LedgerModel):
    """One ISO 8583 configuration; each change is a new ``version``, and a deleted one is
    kept, LOCKED, so that what was booked under it can still be explained."""

    config_id: UUID
    journal_id: UUID
    settlement_account_id: UUID
    time_zone: Annotated[str, AfterValidator(_zone_name)]
    processor: Iso8583Processor
    description: Description | None = None
    processor_spec: Annotated[ProcessorSpec, BeforeValidator(_variant_only)] = ProcessorSpec()
    open_to_buy: Annotated[OpenToBuy, AfterValidator(_judged_on_pending)] = (
        OpenToBuy.AVAILABLE_PENDING)
    status: Annotated[Status, AfterValidator(_active_or_locked)] = Status.ACTIVE
    version: int = Field(default=1, ge=1)


def time_zone_problem(name: str) -> str | None:
    """Why ``name`` is not a zone of the tz database, or None. Call it on a name the model
    accepted (its shape keeps the lookup inside the database's directory)."""
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return f"time zone {name!r} is not in the IANA tz database"
    return None
