"""The one codec for every key and value the ledger writes to Kafka.

A record is ``MAGIC | version (2 bytes, big-endian) | Avro body``. The version names the
writer's schema file (``<name>.v<version>.avsc``); the reader always uses the newest file of
that name, and Avro schema resolution fills in fields the writer did not know. A file may
reference named types from other files; it lists them, with their versions, under
``x-named-types`` so an old version keeps resolving against the types it was written with.
A union of several record types decodes to ``(type name, record)``.
"""

import io
import json
import struct
from functools import cache
from pathlib import Path
from typing import Any

import fastavro

from schemas.avro_writer import compile_writer

MAGIC = 0x4C
_HEADER = struct.Struct(">BH")
_HERE = Path(__file__).resolve().parent


class DecodeError(ValueError):
    """Bytes that are not a record of the expected schema."""


class Codec:
    """Encodes and decodes framed Avro records by schema name."""

    def __init__(self, directory: Path = _HERE) -> None:
        self._directory = directory
        self._versions: dict[str, dict[int, Any]] = {}
        for path in sorted(directory.glob("*.v*.avsc")):
            name, version = _split(path.name)
            self._versions.setdefault(name, {})[version] = self._parse(f"{name}.v{version}")
        # New records are written with the newest version, by writers compiled from it:
        # encode is the hot path.
        self._writers = {name: compile_writer(v[max(v)], _HEADER.pack(MAGIC, max(v)))
                         for name, v in self._versions.items()}
        self._plain: dict[tuple[str, int], Any] = {}

    def _parse(self, stem: str, named: dict[str, Any] | None = None) -> Any:
        raw = json.loads((self._directory / f"{stem}.avsc").read_text())
        named = {} if named is None else named
        for dependency in raw.get("x-named-types", []):
            self._parse(dependency, named)
        return fastavro.parse_schema(raw, named_schemas=named)

    @property
    def names(self) -> list[str]:
        """Every schema name the codec knows."""
        return sorted(self._versions)

    def versions(self, name: str) -> list[int]:
        """The versions of schema ``name``, oldest first."""
        return sorted(self._versions[name])

    def latest(self, name: str) -> int:
        """The newest version of schema ``name``: the one new records are written with."""
        return max(self._versions[name])

    def schema(self, name: str, version: int) -> Any:
        """The parsed schema of ``name`` at ``version``."""
        return self._versions[name][version]

    def plain_schema(self, name: str, version: int) -> Any:
        """``name`` at ``version`` without logical types: the same bytes decode to plain ints
        instead of dates and datetimes, which readers of millions of records can afford."""
        key = (name, version)
        plain = self._plain.get(key)
        if plain is None:
            plain = self._plain[key] = self._parse_plain(f"{name}.v{version}", {})
        return plain

    def _parse_plain(self, stem: str, named: dict[str, Any]) -> Any:
        raw = _without_logical_types(json.loads((self._directory / f"{stem}.avsc").read_text()))
        for dependency in raw.get("x-named-types", []):
            self._parse_plain(dependency, named)
        return fastavro.parse_schema(raw, named_schemas=named)

    def encode(self, name: str, record: dict[str, Any], version: int | None = None) -> bytes:
        """Frame and encode ``record`` with the newest (or the given) version of ``name``.

        With the newest version, an array of records may hold bytes in place of a record:
        the body (without the frame) of one this codec encoded (``avro_writer``)."""
        if version is None:
            return self._writers[name](record)
        buffer = io.BytesIO()
        buffer.write(_HEADER.pack(MAGIC, version))
        fastavro.schemaless_writer(buffer, self._versions[name][version], record)
        return buffer.getvalue()

    def body(self, framed: bytes) -> bytes:
        """The Avro body of a framed record: what an array of records may embed."""
        return framed[_HEADER.size:]

    def decode(self, name: str, data: bytes | None) -> dict[str, Any]:
        """Decode a framed record of ``name`` into the shape of its newest version."""
        if data is None or len(data) < _HEADER.size:
            raise DecodeError(f"not a {name} record: {len(data or b'')} bytes")
        magic, version = _HEADER.unpack_from(data)
        if magic != MAGIC:
            raise DecodeError(f"not a {name} record: first byte is {magic:#x}, not {MAGIC:#x}")
        versions = self._versions[name]
        if version not in versions:
            raise DecodeError(f"{name} has no schema version {version}")
        reader = versions[max(versions)]
        try:
            record = fastavro.schemaless_reader(
                io.BytesIO(data[_HEADER.size:]), versions[version],
                None if version == max(versions) else reader,
                return_record_name=True, return_record_name_override=True,
            )
        except Exception as exc:
            raise DecodeError(f"undecodable {name} v{version} record: {exc}") from exc
        if not isinstance(record, dict):
            raise DecodeError(f"{name} v{version} did not decode to a record")
        return record


def _without_logical_types(schema: Any) -> Any:
    if isinstance(schema, dict):
        if "logicalType" in schema:
            return schema["type"]
        return {key: _without_logical_types(value) for key, value in schema.items()}
    if isinstance(schema, list):
        return [_without_logical_types(item) for item in schema]
    return schema


def _split(filename: str) -> tuple[str, int]:
    stem = filename.removesuffix(".avsc")
    name, _, version = stem.rpartition(".v")
    return name, int(version)


@cache
def codec() -> Codec:
    """The codec over the schemas shipped in this package."""
    return Codec()
