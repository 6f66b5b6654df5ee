"""Record order, line endings and lenient mode: reading files whose shape is wrong."""

from __future__ import annotations

import pytest

from nacha import FileRejectedError, Rule, generate, parse
from tests.nacha import samples
from tests.nacha.support import join, lines_of, reported

PPD = samples.text(samples.PPD_PAYROLL)
LINES = lines_of(PPD)
ORDER = Rule.RECORD_ORDER

MISPLACED = {
    "no_file_header": (LINES[1:], 1),
    "second_file_header": ([*LINES[:2], LINES[0], *LINES[2:]], 3),
    "entry_outside_a_batch": ([LINES[0], LINES[2], *LINES[1:]], 2),
    "addenda_before_any_entry": ([*LINES[:2], LINES[5], *LINES[2:]], 3),
    "batch_control_outside_a_batch": ([LINES[0], LINES[7], *LINES[1:]], 2),
    "record_after_the_file_control": ([*LINES[:9], LINES[2], *LINES[9:]], 10),
    "batch_without_control": ([*LINES[:7], *LINES[8:]], 8),
}


@pytest.mark.parametrize(("lines", "record"), MISPLACED.values(), ids=MISPLACED.keys())
def test_a_record_out_of_order_is_reported_at_its_line(lines: list[str], record: int) -> None:
    assert (record, "record_type_code", 1, 1, ORDER) in reported(join(lines))


def test_a_file_without_its_file_control_is_reported_at_its_last_line() -> None:
    assert (8, "record_type_code", 1, 1, ORDER) in reported(join(LINES[:8]))


def test_lenient_mode_keeps_what_it_can_read() -> None:
    broken = join([LINES[0], LINES[2], *LINES[1:]])
    parsed = parse(broken, lenient=True)
    assert not parsed.ok
    assert len(parsed.file.entries) == 4
    assert parsed.file.batches[0].control is not None
    with pytest.raises(FileRejectedError):
        parse(broken)


def test_lenient_mode_reads_a_batch_missing_its_control() -> None:
    parsed = parse(join([*LINES[:7], *LINES[8:]]), lenient=True)
    assert parsed.file.batches[0].control is None
    assert [entry.detail["individual_name"] for entry in parsed.file.entries] == [
        "JANE DOE", "JOHN ROE", "MARIA GARCIA", "WEI CHEN"]


def test_a_short_record_is_not_checked_field_by_field() -> None:
    # its positions mean nothing; what it breaks in its batch (a missing trace number) still counts
    violations = reported(join([*LINES[:3], LINES[3][:50], *LINES[4:]]))
    assert violations[0] == (4, "record", 1, 94, Rule.RECORD_LENGTH)
    assert not [v for v in violations if v[4].startswith("field_")]


def test_lenient_mode_never_raises_on_garbage() -> None:
    parsed = parse("hello\nworld", lenient=True)
    assert parsed.file.header is None
    assert {violation.rule for violation in parsed.violations} >= {
        Rule.RECORD_LENGTH, Rule.RECORD_TYPE_UNKNOWN, ORDER}


def test_crlf_line_endings_are_read_and_kept() -> None:
    crlf = PPD.replace("\n", "\r\n")
    parsed = parse(crlf)
    assert parsed.file.line_ending == "\r\n"
    assert generate(parsed.file) == crlf
    assert parsed.file.entries == parse(PPD).file.entries


def test_a_file_without_a_final_newline_round_trips() -> None:
    assert generate(parse(PPD.rstrip("\n")).file) == PPD.rstrip("\n")


def test_bytes_are_read_as_text() -> None:
    assert parse(PPD.encode("ascii")).file == parse(PPD).file


def test_a_stray_byte_is_reported_not_fatal() -> None:
    broken = PPD.encode("ascii").replace(b"JANE DOE", b"JANE D\xd6E")
    assert (3, "individual_name", 55, 76, Rule.FIELD_NOT_ALPHANUMERIC) in [
        (v.record, v.field, v.start, v.end, v.rule) for v in parse(broken, lenient=True).violations]
