"""Helpers for the NACHA tests: break one field of a sample and look at what is reported."""

from __future__ import annotations

from nacha import Violation, parse

Where = tuple[int, str, int, int, str]


def lines_of(text: str) -> list[str]:
    return text.split("\n")[:-1]


def join(lines: list[str]) -> str:
    return "".join(line + "\n" for line in lines)


def overwrite(text: str, record: int, start: int, new: str) -> str:
    """The file with ``new`` written over the record's text from 1-based position ``start``."""
    lines = lines_of(text)
    line = lines[record - 1]
    lines[record - 1] = line[:start - 1] + new + line[start - 1 + len(new):]
    return join(lines)


def where(violation: Violation) -> Where:
    return (violation.record, violation.field, violation.start, violation.end, violation.rule)


def reported(text: str, *, origination: bool = False) -> list[Where]:
    return [where(violation)
            for violation in parse(text, lenient=True, origination=origination).violations]
