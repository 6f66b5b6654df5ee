"""Journals: the books transactions are written in. A DEFAULT journal always exists."""

from __future__ import annotations

from uuid import UUID

from ledger_core.base import LedgerModel
from ledger_core.bounded_fields import Code, Description, Name
from ledger_core.enums import Status

__all__ = ["DEFAULT_JOURNAL", "DEFAULT_JOURNAL_ID", "Journal", "JournalConfig"]


class JournalConfig(LedgerModel):
    """Per-journal switches; ``enable_effective_balances`` lets balances be read as of an
    accounting (effective) date, set when the journal is created."""

    enable_effective_balances: bool = False


class Journal(LedgerModel):
    """A book of transactions; a LOCKED journal accepts no postings."""

    journal_id: UUID
    name: Name
    description: Description = ""
    code: Code | None = None
    status: Status = Status.ACTIVE
    config: JournalConfig = JournalConfig()


# Fixed so that every processor, replay and test agrees on it without coordination.
DEFAULT_JOURNAL_ID = UUID("00000000-0000-4000-8000-000000000001")

DEFAULT_JOURNAL = Journal(
    journal_id=DEFAULT_JOURNAL_ID,
    name="Default journal",
    description="The journal used when a tran code names none.",
    code="DEFAULT",
)
