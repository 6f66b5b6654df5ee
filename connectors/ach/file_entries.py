"""The entries of a generated (ODFI) file on the ``ach-file-entries`` topic.

One record per entry, keyed by file id and trace number, on the partition of its file id,
so a file's entries share a partition. A record holds everything the entry and its batch
header carry in the NACHA text, so the file can be written again from its records alone
(with its configuration version and creation time), and what became of the trace number
the file gave the entry's execution.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from enum import StrEnum
from typing import Annotated
from uuid import UUID

from pydantic import StringConstraints

from connectors.ach.files import file_key
from connectors.ach.topics import AchTopics
from ledger_core.ach_workflows import Workflow
from ledger_core.base import LedgerModel
from streams.partitioning import partition_for_key
from streams.reading import read_committed

TraceNumber = Annotated[str, StringConstraints(pattern=r"^\d{15}$")]


class FileEntryStatus(StrEnum):
    """Where an entry's trace number stands with its execution."""

    # The trace command went to the workflow processor; its result is not recorded yet.
    SENT = "SENT"
    # The execution keeps the trace number (accepted, or already kept before a restart).
    TRACED = "TRACED"
    # The workflow refused it (the execution had left SUBMITTED before its file took it).
    REFUSED = "REFUSED"


class BatchHeader(LedgerModel):
    """The batch header fields an entry shares with every entry of its batch."""

    service_class_code: int
    standard_entry_class_code: str
    company_name: str
    company_identification: str
    company_entry_description: str
    effective_entry_date: date


class OdfiFileEntry(LedgerModel):
    """One entry of a generated file: its execution, trace number, batch, NACHA fields
    (amount in integer cents) and what became of its trace number."""

    file_id: UUID
    trace_number: TraceNumber
    execution_id: UUID
    workflow: Workflow
    batch_number: int
    batch: BatchHeader
    transaction_code: int
    routing_number: Annotated[str, StringConstraints(pattern=r"^\d{9}$")]
    dfi_account_number: str
    amount_cents: int
    receiver_name: str
    receiver_identification: str = ""
    payment_type_code: str = ""
    status: FileEntryStatus = FileEntryStatus.SENT
    refusal_code: str | None = None
    refusal_message: str | None = None

    @property
    def is_credit(self) -> bool:
        """A PUSH entry is a credit to the receiver, a PULL entry a debit."""
        return self.workflow is Workflow.PUSH


def file_entry_key(file_id: UUID, trace_number: str) -> bytes:
    """The key of an entry's records: its file id and trace number."""
    return f"{file_id}:{trace_number}".encode()


def file_partition(file_id: UUID, partitions: int) -> int:
    """The partition of a file's record and of all its entries."""
    return partition_for_key(file_key(file_id), partitions)


def read_file_entries(bootstrap: str, topics: AchTopics,
                      file_ids: Collection[UUID]) -> dict[UUID, list[OdfiFileEntry]]:
    """The latest committed record of every entry of the files ``file_ids`` (generated
    files), each file's entries in trace number order. Records of other files (received
    ones keep their own records on the topic) are not decoded."""
    wanted = {str(file_id) for file_id in file_ids}
    partitions = {file_partition(file_id, topics.partitions) for file_id in file_ids}
    latest: dict[bytes, OdfiFileEntry] = {}
    for message in read_committed(bootstrap, topics.file_entries, sorted(partitions)):
        key = message.key() or b""
        if message.value() is None or key.decode(errors="replace").split(":")[0] not in wanted:
            continue
        latest[key] = OdfiFileEntry.model_validate_json(message.value())
    found: dict[UUID, list[OdfiFileEntry]] = {file_id: [] for file_id in file_ids}
    for entry in sorted(latest.values(), key=lambda e: e.trace_number):
        found[entry.file_id].append(entry)
    return found
