"""Avro readers compiled from the schemas: one Python function per schema version, appending
the values of the columns the sink writes to one list per column.

fastavro's ``schemaless_reader`` interprets a schema and builds a dict for every record;
the sink reads millions of records of three fixed schemas and wants them as columns. So each
(schema, version) is compiled once into the straight-line code that reads its Avro binary
body field by field (zigzag varints, length-prefixed UTF-8, unions with null, nested
records, arrays), keeping the values of the wanted fields and checking the rest. Only the
types the ledger's schemas use are compiled; any other is refused when the reader is built.

A reader refuses (raises ``DecodeError``) whatever fastavro refuses (bytes that end inside
a value, an unknown union branch, malformed UTF-8), and also an int or long beyond its 32 or
64 bits (fastavro reads it; an int32 or int64 column could not hold it), a negative length
and a union index not written in one byte. ``tests/parquet_sink/test_avro_columns.py``
checks it against fastavro.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

from schemas.codec import DecodeError

__all__ = ["Reader", "compile_reader"]

# A reader appends a record's values to the columns' lists through their append methods,
# only once the whole record has decoded, or raises DecodeError and appends nothing.
Reader = Callable[[bytes, Sequence[Callable[[Any], None]]], None]


def _varint(data: bytes, pos: int, first: int, limit: int) -> tuple[int, int]:
    # The rest of a varint whose first byte had its continuation bit set; the one-byte case
    # is read inline by the compiled code.
    number, shift = first & 0x7F, 7
    while True:
        byte = data[pos]
        pos += 1
        number |= (byte & 0x7F) << shift
        if not byte & 0x80:
            break
        shift += 7
        if shift >= 70:
            raise DecodeError("a varint longer than ten bytes")
    if number >= limit:
        raise DecodeError(f"a varint of {number.bit_length()} bits where at most "
                           f"{limit.bit_length() - 1} fit")
    return number, pos


def _remember(memo: dict[bytes, tuple[int, int]], data: bytes, pos: int,
              limit: int) -> tuple[int, int]:
    # Dates and times repeat from record to record (a batch's records share its wall time)
    # and a varint of several bytes costs a loop in Python: each is read once.
    number, end = _varint(data, pos + 1, data[pos], limit)
    if len(memo) >= _MEMO_SIZE:
        memo.clear()
    read = memo[data[pos:pos + 10]] = ((number >> 1) ^ -(number & 1), end - pos)
    return read


_MEMO_SIZE = 1 << 16
# What the ten bytes from a varint decode to, and how many of them it takes.
_INTS: dict[bytes, tuple[int, int]] = {}
_LONGS: dict[bytes, tuple[int, int]] = {}
# The zigzag of a 32-bit (an Avro int) and of a 64-bit (a long, a length, a count) number.
_INT_LIMIT = 1 << 32
_LONG_LIMIT = 1 << 64
# What the fast code reads through: a one-byte varint's value, and the bytes a string with a
# one-byte length takes (None for a negative length or a longer varint, a TypeError).
_ZIGZAG = tuple((b >> 1) ^ -(b & 1) for b in range(0x80))
_STEP = tuple(None if b & 0x81 else 1 + (b >> 1) for b in range(0x100))


class _Compiler:
    """Writes the source of one reader: lines that read a body at ``p`` of ``d``."""

    def __init__(self, named: dict[str, Any], wanted: Sequence[tuple[str, ...]],
                 fast: bool) -> None:
        self.named = named
        self.fast = fast
        self.wanted = {path: f"c{i}" for i, path in enumerate(wanted)}
        self.found: set[tuple[str, ...]] = set()
        self._ids = itertools.count()

    def resolve(self, schema: Any) -> Any:
        """A named type's definition, or the schema itself."""
        return self.named.get(schema, schema) if isinstance(schema, str) else schema

    def fields(self, schema: dict[str, Any], path: tuple[str, ...], keep: bool,
               indent: str) -> list[str]:
        """Lines for each field of a record, in the order they are written."""
        lines: list[str] = []
        for field in schema["fields"]:
            lines += self.value(field["type"], (*path, field["name"]), keep, indent)
        return lines

    def target(self, path: tuple[str, ...], keep: bool) -> str | None:
        """The variable a leaf at ``path`` is read into, or None when it is only checked."""
        if keep and path in self.wanted:
            self.found.add(path)
            return self.wanted[path]
        return None

    def value(self, schema: Any, path: tuple[str, ...], keep: bool, indent: str) -> list[str]:
        """Lines that read one value of ``schema`` (kept when ``path`` is wanted)."""
        schema = self.resolve(schema)
        if isinstance(schema, list):
            return self.union(schema, path, keep, indent)
        if isinstance(schema, dict):
            if schema["type"] == "record":
                return self.fields(schema, path, keep, indent)
            if schema["type"] == "array":
                return self.array(schema, path, indent)
            raise TypeError(f"{path}: Avro {schema['type']} is not read by the sink")
        target = self.target(path, keep)
        if schema == "string":
            return self.string(target, indent)
        if schema in ("int", "long"):
            return self.number(target, _INT_LIMIT if schema == "int" else _LONG_LIMIT, indent)
        raise TypeError(f"{path}: Avro {schema} is not read by the sink")

    def unsigned(self, limit: int, indent: str) -> list[str]:
        """Lines that read a varint, before its zigzag, into ``b``."""
        return [f"{indent}b = d[p]", f"{indent}p += 1",
                f"{indent}if b & 0x80:", f"{indent}    b, p = _varint(d, p, b, {limit})"]

    def number(self, target: str | None, limit: int, indent: str) -> list[str]:
        """Lines for an int or a long."""
        if self.fast:
            value = f"{target} = " if target is not None else ""
            memo = "_INTS" if limit == _INT_LIMIT else "_LONGS"
            return [f"{indent}b = d[p]", f"{indent}if b < 0x80:",
                    f"{indent}    {value}_ZIGZAG[b]", f"{indent}    p += 1", f"{indent}else:",
                    # The ten bytes from p hold any varint: a key to what they decode to.
                    f"{indent}    m = {memo}.get(d[p:p + 10])",
                    f"{indent}    if m is None:",
                    f"{indent}        m = _remember({memo}, d, p, {limit})",
                    f"{indent}    {value}m[0]", f"{indent}    p += m[1]"]
        lines = self.unsigned(limit, indent)
        if target is not None:
            lines.append(f"{indent}{target} = (b >> 1) ^ -(b & 1)")
        return lines

    def string(self, target: str | None, indent: str) -> list[str]:
        """Lines for a string: its length (even, as a zigzag of a length is), then UTF-8."""
        # A length past the end leaves p past it: the final check refuses the record.
        text = f"{target} = " if target is not None else ""
        if self.fast:
            # One statement: the slice's start is p before the length byte moves it.
            return [f"{indent}{text}d[p + 1:(p := p + _STEP[d[p]])].decode()"]
        return [*self.unsigned(_LONG_LIMIT, indent),
                f"{indent}if b & 1:", f"{indent}    raise DecodeError('a negative length')",
                f"{indent}e = p + (b >> 1)", f"{indent}{text}d[p:e].decode()", f"{indent}p = e"]

    def union(self, branches: list[Any], path: tuple[str, ...], keep: bool,
              indent: str) -> list[str]:
        """Lines for a union: its branch's index, then that branch's value."""
        lines = [f"{indent}b = d[p]", f"{indent}p += 1"]
        keyword = "if"
        for index, branch in enumerate(branches):
            # Indexes are written as one-byte varints: a union has fewer than 64 branches.
            lines.append(f"{indent}{keyword} b == {index << 1}:")
            if self.resolve(branch) == "null":
                target = self.target(path, keep)
                lines.append(f"{indent}    {target} = None" if target is not None
                             else f"{indent}    pass")
            else:
                lines += self.value(branch, path, keep, indent + "    ")
            keyword = "elif"
        lines += [f"{indent}else:", f"{indent}    raise DecodeError('no such union branch')"]
        return lines

    def array(self, schema: dict[str, Any], path: tuple[str, ...], indent: str) -> list[str]:
        """Lines that check an array's blocks and items (the sink keeps no array's values):
        a block is a count, negative when its size in bytes follows, and a zero ends them."""
        n = next(self._ids)
        inner, count = indent + "    ", f"k{n}"
        return [f"{indent}while True:", *self.unsigned(_LONG_LIMIT, inner),
                f"{inner}if b == 0:", f"{inner}    break",
                f"{inner}{count} = (b >> 1) ^ -(b & 1)",
                f"{inner}if {count} < 0:", f"{inner}    {count} = -{count}",
                *self.unsigned(_LONG_LIMIT, inner + "    "),
                f"{inner}for _ in range({count}):",
                *self.value(schema["items"], path, False, inner + "    ")]


def _source(name: str, compiler: _Compiler, schema: dict[str, Any],
            wanted: Sequence[tuple[str, ...]]) -> list[str]:
    body = compiler.fields(schema, (), True, "        ")
    missing = [path for path in wanted if path not in compiler.found]
    if missing:
        raise TypeError(f"{schema['name']} has no field {missing[0]}")
    variables = [compiler.wanted[path] for path in wanted]
    append = [f"    {''.join(f'a{v}, ' for v in variables)}= appends",
              *(f"    a{v}({v})" for v in variables)]
    if compiler.fast:
        # Whatever the fast code does not expect (a long string's length, bad bytes, a
        # short record) is read again by the exact code, which decodes it or refuses it.
        return [f"def {name}(d, appends):", "    try:", "        p = 3", *body,
                "        if p > len(d):", "            raise DecodeError('short')",
                "    except (LookupError, TypeError, ValueError):",
                "        return exact(d, appends)", *append]
    return [f"def {name}(d, appends):", "    p = 3", "    try:", *body,
            "    except IndexError:", "        raise DecodeError('the bytes end inside a value')",
            "    except UnicodeDecodeError as exc:",
            "        raise DecodeError(f'a string is not UTF-8: {exc}') from None",
            "    if p > len(d):", "        raise DecodeError('the bytes end inside a value')",
            *append]


def compile_reader(schema: dict[str, Any], wanted: Sequence[tuple[str, ...]]) -> Reader:
    """A function reading a framed record (3 bytes of frame, then the Avro body) of the
    parsed, plain ``schema``: it appends its values at the ``wanted`` field paths
    (``("settled", "dr_balance")`` is a field of a nested record) through ``appends``, one
    per path. Trailing bytes are ignored, as fastavro ignores them.

    It is two functions: ``exact`` reads any valid body, and ``read`` first tries code that
    takes every string's length to be one byte (shorter than 64 bytes) through tables."""
    named = schema.get("__named_schemas", {})
    source = "\n".join([*_source("exact", _Compiler(named, wanted, False), schema, wanted),
                        *_source("read", _Compiler(named, wanted, True), schema, wanted)])
    scope: dict[str, Any] = {"_varint": _varint, "DecodeError": DecodeError,
                             "_STEP": _STEP, "_ZIGZAG": _ZIGZAG, "_remember": _remember,
                             "_INTS": _INTS, "_LONGS": _LONGS}
    exec(compile(source, f"<avro reader {schema['name']}>", "exec"), scope)
    reader: Reader = scope["read"]
    return reader
