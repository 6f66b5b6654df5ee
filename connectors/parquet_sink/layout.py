"""Where the sink's files live, what their names mean, and where each partition resumes.

A file is ``<root>/entity=<entity>/date=<YYYY-MM-DD>/<topic>+<partition>+<start>+<end>.parquet``.
``start`` and ``end`` are the first and last offsets (inclusive) of one *flush*: the records a
partition buffered and wrote at once. A flush whose records fall on several dates writes one
file per date, all with the flush's name, so the name identifies the flush and the directory
the date. Files are first written under ``<root>/_tmp/`` with the same relative path and then
renamed into place (``docs/warehouse.md`` proves the order safe).
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass

TEMP_DIR = "_tmp"
_NAME = re.compile(r"(?P<topic>[A-Za-z0-9._-]+)\+(?P<partition>\d+)\+(?P<start>\d+)"
                   r"\+(?P<end>\d+)\.parquet")
_RELATIVE = re.compile(r"entity=(?P<entity>[a-z_]+)/date=(?P<date>\d{4}-\d{2}-\d{2})/"
                       + _NAME.pattern)


@dataclass(frozen=True, order=True)
class Flush:
    """The offsets of one partition that one flush wrote."""

    topic: str
    partition: int
    start: int
    end: int

    def __post_init__(self) -> None:
        if not 0 <= self.start <= self.end:
            raise ValueError(f"a flush covers start <= end offsets, not {self.start}..{self.end}")

    @property
    def name(self) -> str:
        """The file name every file of this flush has."""
        return f"{self.topic}+{self.partition}+{self.start}+{self.end}.parquet"


@dataclass(frozen=True, order=True)
class SinkFile:
    """One file of the warehouse, relative to its root."""

    entity: str
    date: str
    flush: Flush

    @property
    def relative(self) -> str:
        """Its path under the root (or under the root's ``_tmp``)."""
        return f"entity={self.entity}/date={self.date}/{self.flush.name}"


def parse_relative(relative: str) -> SinkFile | None:
    """The file a relative path names, or None for anything else the directory holds."""
    match = _RELATIVE.fullmatch(relative)
    if match is None:
        return None
    flush = Flush(match["topic"], int(match["partition"]), int(match["start"]),
                  int(match["end"]))
    return SinkFile(match["entity"], match["date"], flush)


def resume_offsets(files: Iterable[SinkFile]) -> dict[tuple[str, int], int]:
    """The next offset to read of every (topic, partition) that has a file: one after the
    highest end offset on disk. Offsets are not contiguous (transaction markers, compaction),
    so "after the end" is the only sound position, never "start plus the row count"."""
    nexts: dict[tuple[str, int], int] = {}
    for file in files:
        key = (file.flush.topic, file.flush.partition)
        nexts[key] = max(nexts.get(key, 0), file.flush.end + 1)
    return nexts
