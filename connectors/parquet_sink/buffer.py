"""What one partition has read and not yet written: its records as columns, and when to roll
them."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from connectors.parquet_sink.avro_columns import Reader, compile_reader
from connectors.parquet_sink.columns import QUARANTINE, Entity
from connectors.parquet_sink.layout import Flush, SinkFile
from schemas.codec import MAGIC, DecodeError, codec

RECORD_NOT_DECODABLE = "record_not_decodable"
AMOUNT_NOT_REPRESENTABLE = "amount_not_representable"


@dataclass(frozen=True)
class RollPolicy:
    """A partition's buffer is written once it holds ``max_records`` records, or once its
    oldest record has waited ``max_seconds`` (the sink's clock, so a quiet topic still
    flushes)."""

    max_records: int = 100_000
    max_seconds: float = 60.0

    def __post_init__(self) -> None:
        if self.max_records < 1 or self.max_seconds <= 0:
            raise ValueError("a roll policy needs at least one record and a positive time")

    def due(self, records: int, opened_at: float | None, now: float) -> bool:
        """Whether a buffer of ``records`` opened at ``opened_at`` must be written at ``now``."""
        if records == 0 or opened_at is None:
            return False
        return records >= self.max_records or now - opened_at >= self.max_seconds


@dataclass
class PartitionBuffer:
    """The records of one topic partition since the last flush, held column by column:
    each record's values go straight from its Avro bytes to one list per column."""

    topic: str
    partition: int
    entity: Entity
    quarantined: list[tuple[Any, ...]] = field(default_factory=list)
    start: int | None = None
    end: int = -1
    opened_at: float | None = None
    _readers: dict[int, Reader] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # The record's columns, then the offsets and timestamps; the keys and values only
        # quarantine a record (holding the messages would keep each one alive).
        self._cells: list[list[Any]] = [[] for _ in self.entity.record_paths]
        self._appends = [cells.append for cells in self._cells]
        self._offsets: list[int] = []
        self._timestamps: list[int] = []
        self._keys: list[bytes | None] = []
        self._values: list[bytes] = []

    @property
    def records(self) -> int:
        """Records held, written ones and refused ones."""
        return len(self._offsets) + len(self.quarantined)

    def add(self, message: Any, now: float) -> None:
        """Decode one record and hold it (or its quarantine row)."""
        offset = message.offset()
        if self.start is None:
            self.start, self.opened_at = offset, now
        self.end = offset
        data = message.value()
        try:
            self._read(data)
        # DecodeError for the bytes, TypeError for a schema version with a type the sink's
        # readers do not read.
        except (DecodeError, TypeError) as exc:
            self.quarantined.append(quarantine_row(message, RECORD_NOT_DECODABLE,
                                                   f"{type(exc).__name__}: {exc}"))
            return
        self._offsets.append(offset)
        self._timestamps.append(message.timestamp()[1])
        self._keys.append(message.key())
        self._values.append(data)

    def _read(self, data: bytes | None) -> None:
        if data is None or len(data) < 3 or data[0] != MAGIC:
            raise DecodeError(f"not a framed {self.entity.schema_name} record")
        version = data[1] << 8 | data[2]
        reader = self._readers.get(version)
        if reader is None:
            if version not in codec().versions(self.entity.schema_name):
                raise DecodeError(f"{self.entity.schema_name} has no schema version {version}")
            # Plain ints for dates and times: Arrow takes them as they are.
            reader = compile_reader(codec().plain_schema(self.entity.schema_name, version),
                                    self.entity.record_paths)
            self._readers[version] = reader
        reader(data, self._appends)

    def files(self) -> list[tuple[SinkFile, pa.Table]]:
        """The flush of everything held: one table per entity and date, named by the held
        offsets. A record the entity's columns cannot hold joins the quarantine."""
        assert self.start is not None, "nothing to flush"
        flush = Flush(self.topic, self.partition, self.start, self.end)
        cells: list[list[Any]] = [*self._cells, [self.partition] * len(self._offsets),
                                  self._offsets, self._timestamps]
        # A date no calendar holds is as undecodable as bad bytes.
        dates, undated = self.entity.dates(cells)
        quarantined = sorted(self.quarantined + [
            self._quarantine_row(i, RECORD_NOT_DECODABLE, why) for i, why in undated.items()],
            key=lambda row: row[2])
        refused = {i: why for i, why in self.entity.refusals(cells).items() if i not in undated}
        quarantined += [self._quarantine_row(i, AMOUNT_NOT_REPRESENTABLE, why)
                        for i, why in sorted(refused.items())]
        if undated or refused:
            kept = [i for i in range(len(dates)) if i not in undated and i not in refused]
            cells = [[column[i] for i in kept] for column in cells]
            dates = [dates[i] for i in kept]
        quarantine_cells = [list(column) for column in zip(*quarantined, strict=True)]
        return (_by_date(self.entity, cells, dates, flush)
                + _by_date(QUARANTINE, quarantine_cells,
                           QUARANTINE.dates(quarantine_cells)[0] if quarantined else [], flush))

    def _quarantine_row(self, index: int, code: str, error: str) -> tuple[Any, ...]:
        return (self.topic, self.partition, self._offsets[index], self._timestamps[index],
                code, error, self._keys[index], self._values[index])

    def clear(self) -> None:
        """Forget what was flushed."""
        for column in (*self._cells, self._offsets, self._timestamps, self._keys,
                       self._values, self.quarantined):
            column.clear()
        self.start, self.end, self.opened_at = None, -1, None


def _by_date(entity: Entity, cells: Sequence[Sequence[Any]], dates: Sequence[str],
             flush: Flush) -> list[tuple[SinkFile, pa.Table]]:
    """One table of ``entity`` per date of the rows in ``cells``, in order of date."""
    distinct = set(dates)
    if not distinct:
        return []
    table = entity.table(cells)
    if len(distinct) == 1:
        return [(SinkFile(entity.name, dates[0], flush), table)]
    by_date: dict[str, list[int]] = {}
    for index, date in enumerate(dates):
        by_date.setdefault(date, []).append(index)
    return [(SinkFile(entity.name, date, flush), table.take(indexes))
            for date, indexes in sorted(by_date.items())]


def quarantine_row(message: Any, code: str, error: str) -> tuple[Any, ...]:
    """The quarantine row (in the order of its columns) of a record the sink cannot write as
    its entity."""
    return (message.topic(), message.partition(), message.offset(), message.timestamp()[1],
            code, error, message.key(), message.value())
