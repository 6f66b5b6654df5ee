"""Reading text into an AchFile: strict mode refuses a file that breaks any rule, lenient mode
keeps what it can read and reports every problem beside it."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from nacha.errors import FileRejectedError, Rule, Violation
from nacha.generate import generate
from nacha.model import AchFile, Batch, Entry
from nacha.records import (
    BATCH_CONTROL,
    FILE_CONTROL,
    FILE_HEADER,
    PADDING,
    RECORD_LENGTH,
    Layout,
    Record,
    addenda_layout,
    batch_header_layout,
    entry_layout,
)
from nacha.validate import check


@dataclass(frozen=True)
class Parsed:
    """The file as read and every rule it breaks, in record order."""

    file: AchFile
    violations: tuple[Violation, ...]

    @property
    def ok(self) -> bool:
        return not self.violations


def parse(text: str | bytes, *, lenient: bool = False, origination: bool = False) -> Parsed:
    """Read an ACH file. Lines may end in "\\n" or "\\r\\n".

    Strict (the default) raises FileRejectedError carrying every violation; lenient returns them
    with whatever could be read. ``origination`` adds the rules for a file sent to the ACH
    operator, such as a blank settlement date.
    """
    if isinstance(text, bytes):
        # latin-1 maps every byte to one character, so a stray byte is reported, not fatal
        text = text.decode("latin-1")
    reader = _Reader()
    lines, line_ending, final_newline = _split(text)
    reader.read(lines)
    ach_file = reader.finish(len(lines), line_ending, final_newline)
    violations = tuple(sorted((*reader.violations, *check(ach_file, origination=origination)),
                              key=lambda violation: violation.record))
    if violations and not lenient:
        raise FileRejectedError(violations)
    return Parsed(ach_file, violations)


def _split(text: str) -> tuple[list[str], str, bool]:
    final_newline = text.endswith("\n")
    lines = text.split("\n")
    if final_newline:
        lines.pop()
    line_ending = "\r\n" if lines and lines[0].endswith("\r") else "\n"
    return [line.removesuffix("\r") for line in lines], line_ending, final_newline


@dataclass
class _OpenBatch:
    header: Record
    entry_layout: Layout
    entries: list[Entry] = field(default_factory=list)
    # the last entry detail read, and the addenda read after it so far
    detail: Record | None = None
    addenda: list[Record] = field(default_factory=list)

    def next_entry(self, detail: Record | None) -> None:
        """Close the entry read so far, if any, and go on with ``detail``'s."""
        if self.detail is not None:
            if self.addenda:
                self.entries.append(Entry(self.detail, tuple(self.addenda)))
                self.addenda.clear()
            else:
                self.entries.append(Entry(self.detail))
        self.detail = detail


@dataclass
class _Reader:
    """A state machine over the lines: 1, then (5 (6 7*)* 8)*, then 9, then padding."""

    violations: list[Violation] = field(default_factory=list)
    header: Record | None = None
    batches: list[Batch] = field(default_factory=list)
    batch: _OpenBatch | None = None
    control: Record | None = None
    padding: int = 0
    started: bool = False

    def read(self, lines: Iterable[str]) -> None:
        """Read the lines in order, numbering them from 1."""
        handlers: dict[str, Callable[[int, str], None]] = {
            "1": self._file_header, "5": self._batch_header, "6": self._entry,
            "7": self._addenda, "8": self._batch_control, "9": self._file_control}
        for number, line in enumerate(lines, start=1):
            # the hot path: entries and addenda of a well-formed batch (no file control read
            # yet, since one closes any open batch)
            batch = self.batch
            if batch is not None and len(line) == RECORD_LENGTH:
                kind = line[:1]
                if kind == "6":
                    batch.next_entry(Record(batch.entry_layout, line, number))
                    continue
                if kind == "7" and batch.detail is not None:
                    batch.addenda.append(Record(addenda_layout(line), line, number))
                    continue
            if len(line) != RECORD_LENGTH:
                self._report(number, "record", 1, RECORD_LENGTH, Rule.RECORD_LENGTH,
                             str(len(line)),
                             f"a record is {RECORD_LENGTH} characters, this one {len(line)}")
            if self.control is not None:
                self._after_file_control(number, line)
                continue
            handler = handlers.get(line[:1])
            if handler is None:
                self._report(number, "record_type_code", 1, 1, Rule.RECORD_TYPE_UNKNOWN,
                             line[:1], "record type code must be 1, 5, 6, 7, 8 or 9")
            else:
                handler(number, line)
            self.started = True

    def finish(self, count: int, line_ending: str, final_newline: bool) -> AchFile:
        if self.batch is not None:
            self._out_of_order(count, "", "the last batch has no batch control")
            self._close_batch(None)
        if self.control is None:
            self._out_of_order(count, "", "the file has no file control record")
        return AchFile(self.header, tuple(self.batches), self.control, self.padding,
                       line_ending, final_newline)

    def _file_header(self, number: int, line: str) -> None:
        if self.started:
            self._out_of_order(number, "1", "a file header may only be the first record")
        else:
            self.header = Record(FILE_HEADER, line, number)

    def _batch_header(self, number: int, line: str) -> None:
        self._need_header(number, line)
        if self.batch is not None:
            self._out_of_order(number, "5", "the batch before this one has no batch control")
            self._close_batch(None)
        header = Record(batch_header_layout(line), line, number)
        self.batch = _OpenBatch(header, entry_layout(header["standard_entry_class_code"]))

    def _entry(self, number: int, line: str) -> None:
        if self.batch is None:
            self._out_of_order(number, "6", "an entry detail must be inside a batch")
            return
        self.batch.next_entry(Record(self.batch.entry_layout, line, number))

    def _addenda(self, number: int, line: str) -> None:
        if self.batch is None or self.batch.detail is None:
            self._out_of_order(number, "7", "an addenda must follow an entry detail")
            return
        self.batch.addenda.append(Record(addenda_layout(line), line, number))

    def _batch_control(self, number: int, line: str) -> None:
        if self.batch is None:
            self._out_of_order(number, "8", "a batch control must close a batch")
            return
        self._close_batch(Record(BATCH_CONTROL, line, number))

    def _file_control(self, number: int, line: str) -> None:
        self._need_header(number, line)
        if self.batch is not None:
            self._out_of_order(number, "9", "the last batch has no batch control")
            self._close_batch(None)
        self.control = Record(FILE_CONTROL, line, number)

    def _after_file_control(self, number: int, line: str) -> None:
        if line == PADDING:
            self.padding += 1
        else:
            self._out_of_order(number, line[:1],
                               "only 9-filled padding may follow the file control")

    def _need_header(self, number: int, line: str) -> None:
        if self.header is None and not self.started:
            self._out_of_order(number, line[:1], "the first record must be a file header")

    def _close_batch(self, control: Record | None) -> None:
        assert self.batch is not None
        self.batch.next_entry(None)
        self.batches.append(Batch(self.batch.header, tuple(self.batch.entries), control))
        self.batch = None

    def _out_of_order(self, number: int, found: str, message: str) -> None:
        self._report(number, "record_type_code", 1, 1, Rule.RECORD_ORDER, found, message)

    def _report(self, number: int, name: str, start: int, end: int, rule: Rule, value: str,
                message: str) -> None:
        self.violations.append(Violation(number, name, start, end, rule, value, message))



def validate(ach_file: AchFile, *, origination: bool = False) -> tuple[Violation, ...]:
    """Every rule a file made or changed in code breaks, numbered by its lines as written."""
    return parse(generate(ach_file), lenient=True, origination=origination).violations
