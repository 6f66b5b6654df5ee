"""The sink's pure parts: file names, resume offsets, money cells, rolling and recovery."""

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.parquet_sink.buffer import (
    AMOUNT_NOT_REPRESENTABLE,
    RECORD_NOT_DECODABLE,
    PartitionBuffer,
    RollPolicy,
)
from connectors.parquet_sink.columns import ENTRIES, MONEY, MONEY_SCALE, money_array, money_refusal
from connectors.parquet_sink.layout import Flush, SinkFile, parse_relative, resume_offsets
from connectors.parquet_sink.store import Store
from ledger_core.money import CURRENCY_EXPONENTS
from schemas.codec import codec


def test_a_file_name_says_topic_partition_and_the_flush_offsets() -> None:
    """``<topic>+<partition>+<start>+<end>.parquet`` under entity= and date= directories."""
    file = SinkFile("entries", "2022-09-21", Flush("ledger.entries", 3, 40, 97))
    assert file.relative == "entity=entries/date=2022-09-21/ledger.entries+3+40+97.parquet"
    assert parse_relative(file.relative) == file


@given(st.from_regex(r"[A-Za-z0-9._-]{1,40}", fullmatch=True), st.integers(0, 1000),
       st.integers(0, 2**62), st.integers(0, 2**40))
def test_names_read_back_as_written(topic: str, partition: int, start: int, span: int) -> None:
    """Every name the sink writes parses back to the same flush."""
    file = SinkFile("balances", "2026-01-31", Flush(topic, partition, start, start + span))
    assert parse_relative(file.relative) == file


@pytest.mark.parametrize("relative", [
    "entity=entries/date=2022-09-21/ledger.entries+3+40.parquet",
    "entity=entries/ledger.entries+3+40+97.parquet",
    "_tmp/entity=entries/date=2022-09-21/ledger.entries+3+40+97.parquet",
    "entity=entries/date=2022-09-21/ledger.entries+3+40+97.parquet.tmp",
    "entity=entries/date=2022-09-21/notes.txt",
])
def test_other_files_are_not_the_sinks(relative: str) -> None:
    """Temporary files, other names and other depths are not read as the sink's files."""
    assert parse_relative(relative) is None


def test_a_flush_never_runs_backwards() -> None:
    """A flush holds at least one offset."""
    with pytest.raises(ValueError, match="start <= end"):
        Flush("t", 0, 5, 4)


def test_each_partition_resumes_after_its_highest_end_offset() -> None:
    """Gaps (transaction markers) do not matter; the files of one flush on several dates
    count once; partitions without files are absent."""
    files = [SinkFile("entries", "2022-09-21", Flush("e", 0, 0, 9)),
             SinkFile("entries", "2022-09-21", Flush("e", 0, 12, 30)),
             SinkFile("entries", "2022-09-22", Flush("e", 0, 12, 30)),
             SinkFile("entries", "2022-09-20", Flush("e", 1, 0, 4)),
             SinkFile("balances", "2022-09-21", Flush("b", 0, 0, 2))]
    assert resume_offsets(files) == {("e", 0): 31, ("e", 1): 5, ("b", 0): 3}


@pytest.mark.parametrize(("text", "cell"), [
    ("9.53", Decimal("9.53")), ("-4.28", Decimal("-4.28")), ("0", Decimal(0)),
    ("12345678901234567890123456789012.1234", Decimal("12345678901234567890123456789012.1234")),
    ("1E+2", Decimal(100)),
])
def test_money_cells_are_exact_decimals(text: str, cell: Decimal) -> None:
    """Decimal strings become decimal128 cells of the same value, never floats."""
    assert money_refusal(text) is None
    array = money_array([text])
    assert array.type == MONEY
    assert array.to_pylist() == [cell]


@pytest.mark.parametrize("text", ["1.23456", "123456789012345678901234567890123456",
                                  "NaN", "Infinity", "abc", "", "1e-5"])
def test_money_that_does_not_fit_is_refused_not_rounded(text: str) -> None:
    """More places than the scale, more digits than 38, or no number at all."""
    assert money_refusal(text) is not None


def test_the_money_scale_holds_every_currency_the_ledger_knows() -> None:
    """One scale for every currency: at least the largest ISO 4217 exponent."""
    assert max(CURRENCY_EXPONENTS.values()) <= MONEY_SCALE


@given(st.decimals(allow_nan=False, allow_infinity=False, places=MONEY_SCALE,
                   min_value=Decimal("-1e33"), max_value=Decimal("1e33")))
def test_any_amount_at_the_scale_round_trips(value: Decimal) -> None:
    """Every value the column can hold comes back unchanged."""
    assert money_refusal(str(value)) is None
    assert money_array([str(value)]).to_pylist() == [value]


@pytest.mark.parametrize(("records", "age", "due"), [
    (0, 100.0, False), (1, 0.0, False), (9, 4.9, False), (10, 0.0, True), (1, 5.0, True),
])
def test_a_buffer_rolls_by_count_or_by_age(records: int, age: float, due: bool) -> None:
    """Whichever comes first: ``max_records`` records, or the oldest waiting ``max_seconds``."""
    policy = RollPolicy(max_records=10, max_seconds=5.0)
    assert policy.due(records, 100.0 if records else None, 100.0 + age) is due


@dataclass
class FakeMessage:
    """What the buffer reads of a confluent-kafka message."""

    offset_: int
    value_: bytes
    topic_: str = "ledger.entries"
    partition_: int = 2

    def offset(self) -> int:
        return self.offset_

    def value(self) -> bytes:
        return self.value_

    def key(self) -> bytes:
        return b"k"

    def topic(self) -> str:
        return self.topic_

    def partition(self) -> int:
        return self.partition_

    def timestamp(self) -> tuple[int, int]:
        return (1, 1_663_718_400_000)


def entry_bytes(units: str, effective: date, sequence: int = 1) -> bytes:
    """A framed entry record."""
    record: dict[str, Any] = {
        "entry_id": f"00000000-0000-4000-8000-{sequence:012d}",
        "transaction_id": "00000000-0000-4000-8000-000000000001",
        "journal_id": "00000000-0000-4000-8000-000000000002",
        "account_id": "00000000-0000-4000-8000-000000000003", "sequence": sequence,
        "units": units, "currency": "USD", "direction": "DEBIT", "entry_type": "T",
        "layer": "SETTLED", "description": None, "metadata_json": None,
        "effective": effective, "created": datetime(2022, 9, 21, tzinfo=UTC)}
    return codec().encode("entry", record)


def test_a_flush_writes_one_file_per_date_named_by_the_flush_and_quarantines_the_rest() -> None:
    """Offsets 10..16 (with gaps) over two dates: both files are named 10..16; a record that
    does not decode and one whose units do not fit go to the quarantine, and nothing else."""
    buffer = PartitionBuffer("ledger.entries", 2, ENTRIES)
    messages = [FakeMessage(10, entry_bytes("9.53", date(2022, 9, 21), 1)),
                FakeMessage(12, entry_bytes("1.00001", date(2022, 9, 21), 2)),
                FakeMessage(13, b"\x4c\x00\x01garbage"),
                FakeMessage(14, entry_bytes("4.28", date(2022, 9, 22), 3)),
                FakeMessage(16, entry_bytes("-1", date(2022, 9, 21), 4))]
    for message in messages:
        buffer.add(message, now=0.0)
    assert buffer.records == 5
    files = {(f.entity, f.date): (f.flush.name, t) for f, t in buffer.files()}
    assert set(files) == {("entries", "2022-09-21"), ("entries", "2022-09-22"),
                          ("quarantine", "2022-09-21")}
    assert {name for name, _ in files.values()} == {"ledger.entries+2+10+16.parquet"}
    first = files[("entries", "2022-09-21")][1]
    assert first.column("units").to_pylist() == [Decimal("9.53"), Decimal(-1)]
    assert first.column("kafka_offset").to_pylist() == [10, 16]
    assert files[("entries", "2022-09-22")][1].column("units").to_pylist() == [Decimal("4.28")]
    quarantine = files[("quarantine", "2022-09-21")][1].to_pylist()
    assert [(q["kafka_offset"], q["code"]) for q in quarantine] == [
        (13, RECORD_NOT_DECODABLE), (12, AMOUNT_NOT_REPRESENTABLE)]
    assert quarantine[1]["value"] == messages[1].value_
    buffer.clear()
    assert buffer.records == 0 and buffer.start is None


def _table() -> pa.Table:
    return pa.table({"x": [1]})


def test_recovery_rolls_a_committed_flush_forward_and_drops_an_uncommitted_one(
        tmp_path: Path) -> None:
    """A crash after a flush's first rename: its other files are renamed on start. A crash
    before it: its temporary files are deleted and the offsets are read again."""
    store = Store(str(tmp_path))
    done = [(SinkFile("entries", d, Flush("e", 0, 0, 9)), _table())
            for d in ("2022-09-21", "2022-09-22")]
    store.write(done)
    half = [(SinkFile("entries", d, Flush("e", 0, 10, 19)), _table())
            for d in ("2022-09-21", "2022-09-23")]
    lost = [(SinkFile("entries", "2022-09-21", Flush("e", 1, 0, 5)), _table())]
    for file, table in half + lost:
        path = tmp_path / "_tmp" / file.relative
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, path)
    (tmp_path / "_tmp" / half[0][0].relative).rename(tmp_path / half[0][0].relative)

    assert Store(str(tmp_path)).recover() == {("e", 0): 20}
    assert sorted(f.relative for f in store.files()) == sorted(
        f.relative for f, _ in done + half)
    assert not [p for p in (tmp_path / "_tmp").rglob("*") if p.is_file()]
