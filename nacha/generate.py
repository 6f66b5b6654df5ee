"""Writing an AchFile back to text: its records' own text, then the 9-filled padding."""

from __future__ import annotations

from nacha.model import AchFile
from nacha.records import PADDING


def generate(ach_file: AchFile) -> str:
    """The file's text; byte-identical to what it was parsed from, for a file that parsed whole.

    Lines end as in the file that was read ("\\n" for files the builder makes).
    """
    lines = [record.text for record in ach_file.records()] + [PADDING] * ach_file.padding
    ending = ach_file.line_ending
    return ending.join(lines) + (ending if ach_file.final_newline and lines else "")
