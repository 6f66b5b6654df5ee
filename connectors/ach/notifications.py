"""Notifications of change on the ``ach-notifications`` topic: the corrected data a
receiving bank sent for an entry this ODFI originated, keyed by the original entry's trace
number. A NOC moves no money; the originator updates its records from it.

The corrected data may be an account number (change code C01): it is written here because
this record exists to carry it, and is never logged or printed.
"""

from __future__ import annotations

from uuid import UUID

from connectors.ach.topics import AchTopics
from ledger_core.ach_workflows import Workflow
from ledger_core.base import LedgerModel
from streams.partitioning import partition_for_key


class Notification(LedgerModel):
    """One NOC: the entry it is about (and its execution, when the trace index knows it),
    the change code and the corrected data, and the file and entry it arrived in."""

    original_trace_number: str
    change_code: str
    corrected_data: str
    original_receiving_dfi: str
    file_id: UUID
    trace_number: str
    execution_id: UUID | None = None
    workflow: Workflow | None = None


def notification_key(original_trace_number: str) -> bytes:
    """The key of a NOC's record."""
    return original_trace_number.encode()


def notification_partition(original_trace_number: str, topics: AchTopics) -> int:
    """Its partition, as Kafka's default partitioner places the key."""
    return partition_for_key(notification_key(original_trace_number), topics.partitions)
