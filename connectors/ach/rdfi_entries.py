"""The entries of a received file on the ``ach-file-entries`` topic: what each decision was
and whether the ledger has confirmed it.

One record per entry, keyed by file id and trace number, on the partition of its file id
(as the generated files' entries are), so a file's entries are read from one partition. A
decision is written ``DECIDED`` in the same Kafka transaction as the posting command it
sends, and ``DONE`` once the ledger answered: a run after a crash follows the decisions it
finds and calls the webhook only for entries that have none, so an entry is never decided
twice. The records hold no account number, routing number or name: only the amounts, the
trace numbers, the outcome and the ledger's account id.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from uuid import UUID

from connectors.ach.files import file_key
from connectors.ach.topics import AchTopics
from ledger_core.ach_rdfi import EntryKind, RdfiDecision
from ledger_core.base import LedgerModel
from streams.partitioning import partition_for_key
from streams.reading import read_committed


class EntryStage(StrEnum):
    """Whether the ledger has answered the entry's decision."""

    DECIDED = "DECIDED"  # its posting command was sent with it; no answer recorded yet
    DONE = "DONE"        # posted (or moves no money); an ENCUMBERED one settles later


class RdfiFileEntry(LedgerModel):
    """One entry of a received file and its decision."""

    file_id: UUID
    trace_number: str
    file_digest: str
    kind: EntryKind
    transaction_code: int
    amount_cents: int
    effective_date: date
    execution_id: UUID
    decision: RdfiDecision
    stage: EntryStage
    transaction_id: UUID | None = None
    # A return's or a NOC's: the entry it is about, and that entry's execution if matched.
    original_trace_number: str | None = None
    matched_execution_id: UUID | None = None


def rdfi_entry_key(file_id: UUID, trace_number: str) -> bytes:
    """The key of an entry's records."""
    return f"{file_id}:{trace_number}".encode()


def rdfi_file_partition(file_id: UUID, partitions: int) -> int:
    """The partition of a file's record and of all its entries."""
    return partition_for_key(file_key(file_id), partitions)


def read_rdfi_entries(bootstrap: str, topics: AchTopics,
                      file_id: UUID) -> dict[str, RdfiFileEntry]:
    """The latest committed record of every entry of the received file, by trace number."""
    prefix = f"{file_id}:".encode()
    found: dict[str, RdfiFileEntry] = {}
    partition = rdfi_file_partition(file_id, topics.partitions)
    for message in read_committed(bootstrap, topics.file_entries, [partition]):
        if message.value() is not None and (message.key() or b"").startswith(prefix):
            entry = RdfiFileEntry.model_validate_json(message.value())
            found[entry.trace_number] = entry
    return found
