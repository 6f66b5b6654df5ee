"""The record of a NACHA file on the ``ach-files`` topic: what the file is, where its
processing stands, and its totals.

A generated (ODFI) file and a received (RDFI) file share the record; each side keeps the
detail of its entries in records of its own. The topic is compacted and keyed by file id,
so the latest record of a file is its status.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from connectors.ach.topics import AchTopics
from ledger_core.base import LedgerModel
from streams.reading import read_committed


class AchFileType(StrEnum):
    """Twisp's file types that this processor reads or writes."""

    ODFI = "ODFI"                # generated: the entries the ODFI originates
    RDFI = "RDFI"                # received: entries for the bank's customers
    ODFI_RETURN = "ODFI_RETURN"  # received: returns and NOCs of entries the ODFI sent


class AchFileStatus(StrEnum):
    """Where a file's processing stands. A received file moves NEW -> VALIDATING ->
    PROCESSING -> COMPLETED, or to FAILED; a generated one NEW -> PROCESSING (its trace
    numbers being assigned) -> COMPLETED."""

    NEW = "NEW"
    VALIDATING = "VALIDATING"
    PROCESSING = "PROCESSING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


class FileStatistics(LedgerModel):
    """A file's totals, in integer cents as NACHA counts them."""

    batches: int = 0
    entries: int = 0
    entries_unprocessed: int = 0
    total_debit_cents: int = 0
    total_credit_cents: int = 0
    entry_hash: int = 0


class AchFileRecord(LedgerModel):
    """The latest state of one file."""

    file_id: UUID
    file_type: AchFileType
    name: str
    config_id: UUID
    config_version: int
    status: AchFileStatus
    statistics: FileStatistics
    created_at: datetime
    updated_at: datetime
    # Why the file FAILED: the first rule it broke, never the content of a field.
    error: str | None = None


def file_key(file_id: UUID) -> bytes:
    """The key of a file's records."""
    return str(file_id).encode()


def read_files(bootstrap: str, topics: AchTopics) -> dict[UUID, AchFileRecord]:
    """The latest committed record of every file."""
    return {record.file_id: record for record in _records(bootstrap, topics)}


def _records(bootstrap: str, topics: AchTopics) -> Iterator[AchFileRecord]:
    for message in read_committed(bootstrap, topics.files, range(topics.partitions)):
        if message.value() is not None:
            yield AchFileRecord.model_validate_json(message.value())
