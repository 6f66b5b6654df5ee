"""The sink's compiled Avro readers against fastavro, for every version of every schema the
sink reads: the same values for any valid record, and never a value fastavro would not
give for bytes that are not one."""

import io
import struct
from datetime import date
from decimal import Decimal
from typing import Any

import fastavro
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.parquet_sink.avro_columns import compile_reader
from connectors.parquet_sink.buffer import (
    AMOUNT_NOT_REPRESENTABLE,
    RECORD_NOT_DECODABLE,
    PartitionBuffer,
)
from connectors.parquet_sink.columns import BALANCES, ENTRIES, TRANSACTIONS, Entity, money_refusal
from schemas.codec import MAGIC, DecodeError, codec
from tests.parquet_sink.test_pure import FakeMessage, entry_bytes

SCHEMAS = [(entity, version) for entity in (ENTRIES, TRANSACTIONS, BALANCES)
           for version in codec().versions(entity.schema_name)]
IDS = [f"{entity.schema_name}.v{version}" for entity, version in SCHEMAS]
# Texts of every kind, long enough (64 bytes and more) for the exact code's two-byte lengths.
TEXT = st.text(max_size=90)


def values(schema: Any, named: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Any value of the parsed, plain ``schema``."""
    schema = named.get(schema, schema) if isinstance(schema, str) else schema
    if isinstance(schema, list):
        return st.one_of(*[values(branch, named) for branch in schema])
    if isinstance(schema, dict):
        if schema["type"] == "record":
            return st.fixed_dictionaries({f["name"]: values(f["type"], named)
                                          for f in schema["fields"]})
        assert schema["type"] == "array", schema
        return st.lists(values(schema["items"], named), max_size=3)
    return {"null": st.none(), "string": TEXT,
            "int": st.integers(-2**31, 2**31 - 1) | st.sampled_from([-1, 0, 63, -64, 64]),
            "long": st.integers(-2**63, 2**63 - 1) | st.integers(-200, 200)}[schema]


def schema_of(entity: Entity, version: int) -> Any:
    return codec().plain_schema(entity.schema_name, version)


def framed(entity: Entity, version: int, record: dict[str, Any]) -> bytes:
    out = io.BytesIO()
    out.write(struct.pack(">BH", MAGIC, version))
    fastavro.schemaless_writer(out, schema_of(entity, version), record)
    return out.getvalue()


def fastavro_values(entity: Entity, version: int, data: bytes) -> tuple[Any, ...]:
    """What fastavro reads, at the entity's fields."""
    record = fastavro.schemaless_reader(io.BytesIO(data[3:]), schema_of(entity, version), None)
    cells = []
    for path in entity.record_paths:
        value = record
        for name in path:
            value = value[name]
        cells.append(value)
    return tuple(cells)


def ours(entity: Entity, version: int, data: bytes) -> tuple[Any, ...]:
    """What the compiled reader appends, as one tuple."""
    columns: list[list[Any]] = [[] for _ in entity.record_paths]
    compile_reader(schema_of(entity, version), entity.record_paths)(
        data, [column.append for column in columns])
    assert all(len(column) == 1 for column in columns)
    return tuple(column[0] for column in columns)


@pytest.mark.parametrize(("entity", "version"), SCHEMAS, ids=IDS)
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_valid_record_reads_as_fastavro_reads_it(entity: Entity, version: int,
                                                   data: st.DataObject) -> None:
    """Unicode, empty and long strings, nulls, negative and extreme ints and longs."""
    schema = schema_of(entity, version)
    record = data.draw(values(schema, schema.get("__named_schemas", {})))
    encoded = framed(entity, version, record)
    assert ours(entity, version, encoded) == fastavro_values(entity, version, encoded)


@st.composite
def damaged(draw: st.DrawFn, entity: Entity, version: int) -> bytes:
    """A valid record cut short, with bytes changed or added, or bytes of no record."""
    schema = schema_of(entity, version)
    encoded = framed(entity, version, draw(values(schema, schema.get("__named_schemas", {}))))
    header, body = encoded[:3], bytearray(encoded[3:])
    kind = draw(st.sampled_from(["cut", "change", "insert", "random"]))
    if kind == "cut":
        return header + bytes(body[:draw(st.integers(0, max(len(body) - 1, 0)))])
    if kind == "random":
        return header + draw(st.binary(max_size=300))
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(body)))
        byte = draw(st.integers(0, 255))
        if kind == "change" and at < len(body):
            body[at] = byte
        else:
            body.insert(at, byte)
    return header + bytes(body)


@pytest.mark.parametrize(("entity", "version"), SCHEMAS, ids=IDS)
@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_bytes_that_are_no_record_are_refused_never_misread(entity: Entity, version: int,
                                                            data: st.DataObject) -> None:
    """Where fastavro raises, the reader refuses; where the reader reads, fastavro reads the
    same values (it may refuse more: an int beyond 32 bits, a non-minimal union index)."""
    encoded = data.draw(damaged(entity, version))
    try:
        read = ours(entity, version, encoded)
    except DecodeError:
        return
    assert read == fastavro_values(entity, version, encoded)


@pytest.mark.parametrize("body", [
    b"", b"\x48", b"\x03abc", b"\x80", b"\xff" * 11, b"\x02\xff\xfe" + b"\x00" * 80,
])
def test_refusals_say_why(body: bytes) -> None:
    """Nothing left, a string cut short, a negative length, a varint cut short or too long,
    bytes that are not UTF-8."""
    with pytest.raises(DecodeError):
        ours(ENTRIES, 1, b"\x4c\x00\x01" + body)


def test_an_int_beyond_32_bits_is_refused() -> None:
    """fastavro reads it; an int32 column could not hold it."""
    encoded = bytearray(entry_bytes("1", date(2022, 9, 21), 1))
    good = ours(ENTRIES, 1, bytes(encoded))
    at = encoded.index(b"\x02", 3 + 4 * 37)  # the sequence (1) after the four ids
    big = bytes(encoded[:at]) + fastavro_long(2**31) + bytes(encoded[at + 1:])
    assert good[4] == 1 and fastavro_values(ENTRIES, 1, big)[4] == 2**31
    with pytest.raises(DecodeError, match="bits"):
        ours(ENTRIES, 1, big)


def fastavro_long(value: int) -> bytes:
    out = io.BytesIO()
    fastavro.schemaless_writer(out, "long", value)
    return out.getvalue()


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(st.text(max_size=12), st.from_regex(r"-?[0-9]{0,36}(\.[0-9]{0,6})?",
                                                              fullmatch=True),
                          st.decimals(allow_nan=True, places=5).map(str)),
                min_size=1, max_size=8),
       st.lists(st.binary(max_size=40), max_size=3))
def test_each_record_is_written_exactly_or_quarantined(units: list[str],
                                                        garbage: list[bytes]) -> None:
    """The buffer writes a record's units exactly when the column holds them, quarantines it
    as not representable when it does not (never rounded), and bytes of no record as not
    decodable: every offset once."""
    buffer = PartitionBuffer("ledger.entries", 2, ENTRIES)
    messages = [FakeMessage(i, entry_bytes(u, date(2022, 9, 21), i + 1))
                for i, u in enumerate(units)]
    messages += [FakeMessage(len(units) + i, b"\x4c\x00\x01" + g) for i, g in enumerate(garbage)]
    for message in messages:
        buffer.add(message, now=0.0)
    written: dict[int, Decimal] = {}
    quarantined: dict[int, str] = {}
    for file, table in buffer.files():
        for row in table.to_pylist():
            if file.entity == "quarantine":
                assert row["kafka_offset"] not in quarantined
                quarantined[row["kafka_offset"]] = row["code"]
            else:
                written[row["kafka_offset"]] = row["units"]
    assert set(written) | set(quarantined) == set(range(len(messages)))
    assert not set(written) & set(quarantined)
    for offset, text in enumerate(units):
        if money_refusal(text) is None:
            assert written[offset] == Decimal(text)
        else:
            assert quarantined[offset] == AMOUNT_NOT_REPRESENTABLE
    for offset in range(len(units), len(messages)):
        assert offset in written or quarantined[offset] == RECORD_NOT_DECODABLE


def test_a_date_no_calendar_holds_is_not_decodable() -> None:
    """An effective day beyond year 9999 quarantines its record; its neighbours are written."""
    buffer = PartitionBuffer("ledger.entries", 2, ENTRIES)
    far = bytearray(entry_bytes("1", date(2022, 9, 21), 2))
    now = fastavro_long((date(2022, 9, 21) - date(1970, 1, 1)).days)
    at = far.rindex(now)
    far[at:at + len(now)] = b""
    far[at:at] = fastavro_long(2**31 - 1)
    for offset, data in enumerate([entry_bytes("1", date(2022, 9, 21), 1), bytes(far),
                                   entry_bytes("2", date(2022, 9, 22), 3)]):
        buffer.add(FakeMessage(offset, data), now=0.0)
    files = {(f.entity, f.date): t.column("kafka_offset").to_pylist()
             for f, t in buffer.files()}
    assert files == {("entries", "2022-09-21"): [0], ("entries", "2022-09-22"): [2],
                     ("quarantine", "2022-09-21"): [1]}


@pytest.mark.parametrize("fast", [True, False], ids=["one-byte length", "two-byte length"])
def test_a_record_cut_inside_its_last_string_is_refused(fast: bool) -> None:
    """As fastavro does: nothing after it would notice that the bytes end early."""
    schema = fastavro.parse_schema({"type": "record", "name": "Last",
                                    "fields": [{"name": "text", "type": "string"}]})
    text = "ab" if fast else "a" * 70
    whole = b"\x4c\x00\x01" + fastavro_long(len(text)) + text.encode()
    reader = compile_reader(schema, [("text",)])
    column: list[Any] = []
    reader(whole, [column.append])
    assert column == [text]
    with pytest.raises(EOFError):
        fastavro.schemaless_reader(io.BytesIO(whole[3:-1]), schema, None)
    with pytest.raises(DecodeError, match="end inside"):
        reader(whole[:-1], [column.append])
    assert column == [text]
