"""What one partition has read and not yet written: decoded rows, and when to roll them."""

import io
from dataclasses import dataclass, field
from typing import Any

import fastavro
import pyarrow as pa

from connectors.parquet_sink.columns import QUARANTINE, Entity, day_text
from connectors.parquet_sink.layout import Flush, SinkFile
from schemas.codec import MAGIC, codec

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
    """The records of one topic partition since the last flush."""

    topic: str
    partition: int
    entity: Entity
    rows: list[dict[str, Any]] = field(default_factory=list)
    sources: list[Any] = field(default_factory=list)
    dates: list[str] = field(default_factory=list)
    quarantined: list[dict[str, Any]] = field(default_factory=list)
    start: int | None = None
    end: int = -1
    opened_at: float | None = None
    _schemas: dict[int, Any] = field(default_factory=dict)

    @property
    def records(self) -> int:
        """Records held, written ones and refused ones."""
        return len(self.rows) + len(self.quarantined)

    def add(self, message: Any, now: float) -> None:
        """Decode one record and hold it (or its quarantine row)."""
        offset = message.offset()
        if self.start is None:
            self.start, self.opened_at = offset, now
        self.end = offset
        data = message.value()
        try:
            row = self._decode(data)
            row["kafka_partition"] = self.partition
            row["kafka_offset"] = offset
            row["kafka_timestamp"] = message.timestamp()[1]
            # A date no calendar holds is as undecodable as bad bytes.
            date = day_text(self.entity.day_of(row))
        except Exception as exc:  # fastavro raises whatever the bytes lead it to
            self.quarantined.append(quarantine_row(message, RECORD_NOT_DECODABLE,
                                                   f"{type(exc).__name__}: {exc}"))
            return
        self.rows.append(row)
        self.sources.append(message)
        self.dates.append(date)

    def _decode(self, data: bytes | None) -> dict[str, Any]:
        if data is None or len(data) < 3 or data[0] != MAGIC:
            raise ValueError(f"not a framed {self.entity.schema_name} record")
        version = data[1] << 8 | data[2]
        schema = self._schemas.get(version)
        if schema is None:
            if version not in codec().versions(self.entity.schema_name):
                raise ValueError(f"{self.entity.schema_name} has no schema version {version}")
            # Plain ints for dates and times: Arrow takes them as they are.
            schema = codec().plain_schema(self.entity.schema_name, version)
            self._schemas[version] = schema
        record = fastavro.schemaless_reader(io.BytesIO(data[3:]), schema, None)
        if not isinstance(record, dict):
            raise ValueError(f"{self.entity.schema_name} did not decode to a record")
        return record

    def files(self) -> list[tuple[SinkFile, pa.Table]]:
        """The flush of everything held: one table per entity and date, named by the held
        offsets. A record the entity's columns cannot hold joins the quarantine."""
        assert self.start is not None, "nothing to flush"
        flush = Flush(self.topic, self.partition, self.start, self.end)
        refused = self.entity.refusals(self.rows)
        by_date: dict[str, list[dict[str, Any]]] = {}
        for index, (row, date) in enumerate(zip(self.rows, self.dates, strict=True)):
            if index not in refused:
                by_date.setdefault(date, []).append(row)
        quarantined = self.quarantined + [
            quarantine_row(self.sources[i], AMOUNT_NOT_REPRESENTABLE, why)
            for i, why in sorted(refused.items())]
        files = [(SinkFile(self.entity.name, date, flush), self.entity.table(rows))
                 for date, rows in sorted(by_date.items())]
        quarantined_by_date: dict[str, list[dict[str, Any]]] = {}
        for row in quarantined:
            quarantined_by_date.setdefault(day_text(QUARANTINE.day_of(row)), []).append(row)
        files += [(SinkFile(QUARANTINE.name, date, flush), QUARANTINE.table(rows))
                  for date, rows in sorted(quarantined_by_date.items())]
        return files

    def clear(self) -> None:
        """Forget what was flushed."""
        self.rows, self.sources, self.dates, self.quarantined = [], [], [], []
        self.start, self.end, self.opened_at = None, -1, None


def quarantine_row(message: Any, code: str, error: str) -> dict[str, Any]:
    """The quarantine row of a record the sink cannot write as its entity."""
    return {"topic": message.topic(), "kafka_partition": message.partition(),
            "kafka_offset": message.offset(), "kafka_timestamp": message.timestamp()[1],
            "code": code, "error": error, "key": message.key(), "value": message.value()}
