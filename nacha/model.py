"""An ACH file as a tree: a header, batches of entries with their addenda, a control."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import msgspec

from nacha.records import Record


# a Struct out of the cyclic collector, as Record is: a file holds one per entry
class Entry(msgspec.Struct, frozen=True, gc=False):
    """An entry detail record and the addenda records that follow it."""

    detail: Record
    addenda: tuple[Record, ...] = ()

    def records(self) -> Iterator[Record]:
        yield self.detail
        yield from self.addenda


@dataclass(frozen=True)
class Batch:
    """A batch header, its entries and its control; the control is None only when missing."""

    header: Record
    entries: tuple[Entry, ...]
    control: Record | None

    @property
    def sec_code(self) -> str:
        return self.header["standard_entry_class_code"]

    def records(self) -> Iterator[Record]:
        yield self.header
        for entry in self.entries:
            yield from entry.records()
        if self.control is not None:
            yield self.control


@dataclass(frozen=True)
class AchFile:
    """A whole file. ``padding`` counts the 9-filled lines that complete the last block.

    ``line_ending`` and ``final_newline`` record how the text was laid out, so a parsed file
    is written back exactly; files the builder makes use "\\n" and end with one.
    """

    header: Record | None
    batches: tuple[Batch, ...]
    control: Record | None
    padding: int = 0
    line_ending: str = "\n"
    final_newline: bool = True

    def records(self) -> Iterator[Record]:
        """Every record in file order, the padding lines left out."""
        if self.header is not None:
            yield self.header
        for batch in self.batches:
            yield from batch.records()
        if self.control is not None:
            yield self.control

    @property
    def entries(self) -> tuple[Entry, ...]:
        return tuple(entry for batch in self.batches for entry in batch.entries)
