"""NACHA ACH files: parse, validate, build and write them. Pure: text in, records and text out.

Dates and times are arguments, amounts are integer cents, and nothing here does I/O.
"""

from nacha.build import Addenda, BatchBuilder, FileBuilder, addenda
from nacha.errors import FileRejectedError, Rule, Violation
from nacha.fields import Field, Kind, check_digit
from nacha.generate import generate
from nacha.model import AchFile, Batch, Entry
from nacha.parse import Parsed, parse, validate
from nacha.records import Layout, Record
from nacha.returns import ReturnError, build_return_file

__all__ = [
    "AchFile", "Addenda", "Batch", "BatchBuilder", "Entry", "Field", "FileBuilder",
    "FileRejectedError", "Kind", "Layout", "Parsed", "Record", "ReturnError", "Rule", "Violation",
    "addenda", "build_return_file", "check_digit", "generate", "parse", "validate",
]
