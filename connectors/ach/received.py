"""A received NACHA file read for processing: its identity, its totals and its entries, each
with what the decisions need (``ReceivedEntry``) and the records the webhook is told about.

Identity. A file's id derives from the configuration and the header fields NACHA tells
files apart by (immediate destination and origin, creation date and time, file id
modifier), so the same file received twice, by the command or the upload endpoint, is one
file, and its entries are recognised. The content's SHA-256 is kept beside it: another file
under the same header identity is refused, not taken for the first. A file whose header
cannot be read is identified by its digest alone.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from connectors.ach.files import AchFileType, FileStatistics
from ledger_core.ach_rdfi import EntryKind, ReceivedEntry, rdfi_file_id
from nacha import AchFile, Entry, FileRejectedError, Record, parse
from nacha.codes import is_credit

_IDENTITY = ("immediate_destination", "immediate_origin", "file_creation_date",
             "file_creation_time", "file_id_modifier")
# The addenda 99 layouts name their return code differently (docs/nacha.md).
_RETURN_CODE_FIELDS = ("return_reason_code", "dishonored_return_reason_code",
                       "contested_return_code")
_CHANGE_CODE_FIELDS = ("change_code", "refused_change_code")


@dataclass(frozen=True)
class ReceivedItem:
    """One entry of a received file: the decisions' view, and its NACHA records (the
    account number among them, which only the decisioning webhook is sent)."""

    entry: ReceivedEntry
    batch_header: Record
    detail: Record
    addenda: Record | None  # the 99 of a return, the 98 of a NOC

    @property
    def original_trace_number(self) -> str | None:
        """The trace number of the entry a return or a NOC is about."""
        return None if self.addenda is None else self.addenda["original_entry_trace_number"]

    @property
    def reason_code(self) -> str | None:
        """A return's return code, a NOC's change code."""
        if self.addenda is None:
            return None
        names = (_RETURN_CODE_FIELDS if self.entry.kind is EntryKind.RETURN
                 else _CHANGE_CODE_FIELDS)
        return next(self.addenda[name] for name in names if self.addenda.layout.has(name))


@dataclass(frozen=True)
class ReceivedFile:
    """A received file that passed strict validation."""

    file_id: UUID
    digest: str
    file_type: AchFileType
    items: tuple[ReceivedItem, ...]
    statistics: FileStatistics


@dataclass(frozen=True)
class RejectedFile:
    """A received file that broke a rule: its id and the first violation, told by record,
    field, positions and rule, never by the field's content."""

    file_id: UUID
    digest: str
    error: str


def read_received(content: bytes, config_id: UUID) -> ReceivedFile | RejectedFile:
    """Validate ``content`` strictly and read it."""
    digest = hashlib.sha256(content).hexdigest()
    try:
        ach_file = parse(content).file
    except FileRejectedError as rejected:
        header = parse(content, lenient=True).file.header
        first = rejected.violations[0]
        error = (f"record {first.record}, {first.field} ({first.start}-{first.end}): "
                 f"{first.rule}")
        return RejectedFile(_file_id(header, config_id, digest), digest, error)
    items = tuple(_item(batch.header, entry) for batch in ach_file.batches
                  for entry in batch.entries)
    forward = any(item.entry.kind is EntryKind.FORWARD for item in items)
    return ReceivedFile(
        file_id=_file_id(ach_file.header, config_id, digest), digest=digest,
        file_type=AchFileType.RDFI if forward or not items else AchFileType.ODFI_RETURN,
        items=items, statistics=_statistics(ach_file, items))


def _file_id(header: Record | None, config_id: UUID, digest: str) -> UUID:
    if header is None:
        return rdfi_file_id(config_id, "sha256", digest)
    return rdfi_file_id(config_id, *(header.raw(name) for name in _IDENTITY))


def _item(batch_header: Record, entry: Entry) -> ReceivedItem:
    detail = entry.detail
    code = detail.number("transaction_code") or 0
    addenda = next((a for a in entry.addenda if a["addenda_type_code"] in {"98", "99"}), None)
    kind = (EntryKind.FORWARD if addenda is None
            else EntryKind.RETURN if addenda["addenda_type_code"] == "99" else EntryKind.NOC)
    received = ReceivedEntry(trace_number=detail["trace_number"], kind=kind,
                             transaction_code=code, credit=is_credit(code),
                             amount_cents=detail.number("amount") or 0,
                             effective_date=_date(batch_header["effective_entry_date"]))
    return ReceivedItem(received, batch_header, detail, addenda)


def _date(yymmdd: str) -> date:
    # strict validation has checked it is a calendar date
    return date(2000 + int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:6]))


def _statistics(ach_file: AchFile, items: tuple[ReceivedItem, ...]) -> FileStatistics:
    control = ach_file.control
    return FileStatistics(
        batches=len(ach_file.batches), entries=len(items), entries_unprocessed=len(items),
        total_debit_cents=sum(i.entry.amount_cents for i in items if not i.entry.credit),
        total_credit_cents=sum(i.entry.amount_cents for i in items if i.entry.credit),
        entry_hash=0 if control is None else control.number("entry_hash") or 0)
