"""Avro binary writers compiled from the schemas: one Python function per schema.

fastavro's ``schemaless_writer`` interprets a schema for every record it writes; a
processor writes millions of records of a dozen fixed schemas. So each schema is compiled
once into the straight-line code that writes it (the Avro binary encoding, written out
field by field), about three times faster than the interpreter. ``tests/schemas`` checks
that every writer produces fastavro's bytes exactly.

One extension: an array of records accepts, in place of a record, the bytes of one already
written by the same schema's writer (without its frame). A transaction record therefore
carries its entries as the very bytes the entries topic got, each entry encoded once.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

__all__ = ["compile_writer", "varint"]

_EPOCH_DATE = date(1970, 1, 1).toordinal()
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Zigzag varints of small ints, written as often as every length and count is.
_SMALL = 1024


def varint(value: int) -> bytes:
    """The zigzag variable-length encoding of an Avro int or long."""
    number = (value << 1) ^ (value >> 63)
    out = bytearray()
    while number > 0x7F:
        out.append((number & 0x7F) | 0x80)
        number >>= 7
    out.append(number)
    return bytes(out)


_VARINTS = tuple(varint(i) for i in range(_SMALL))


def _int(value: int) -> bytes:
    if 0 <= value < _SMALL:
        return _VARINTS[value]
    return varint(value)


def _string(value: str) -> bytes:
    data = value.encode()
    length = len(data)
    return (_VARINTS[length] if length < _SMALL else varint(length)) + data


def _bytes(value: bytes) -> bytes:
    length = len(value)
    return (_VARINTS[length] if length < _SMALL else varint(length)) + value


def _date(value: date | int) -> bytes:
    return _int(value if isinstance(value, int) else value.toordinal() - _EPOCH_DATE)


@lru_cache(maxsize=256)
def _micros(value: datetime | int) -> bytes:
    # Cached: every record of a batch carries the batch's one wall time, several times.
    if isinstance(value, int):
        return _int(value)
    delta = value - _EPOCH
    return _int((delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds)


_HELPERS: dict[str, Any] = {"_int": _int, "_string": _string, "_bytes": _bytes,
                            "_date": _date, "_micros": _micros, "_VARINTS": _VARINTS}


class _Compiler:
    """Writes the source of one writer function per named record of a parsed schema."""

    def __init__(self, named: dict[str, Any]) -> None:
        self.named = named
        self.functions: dict[str, list[str]] = {}
        self._ids = itertools.count()

    def record(self, schema: dict[str, Any]) -> str:
        """The name of the function that writes records of ``schema`` into a list."""
        name = "_w_" + str(schema["name"]).replace(".", "_")
        if name not in self.functions:
            self.functions[name] = []  # reserved: a record may refer to itself
            lines = [f"def {name}(r, out):"]
            for field in schema["fields"]:
                # A field with a default may be left out, as fastavro allows.
                value = (f"r.get({field['name']!r}, {field['default']!r})" if "default" in field
                         else f"r[{field['name']!r}]")
                lines += self.value(field["type"], value, "    ")
            if len(lines) == 1:
                lines.append("    pass")
            self.functions[name] = lines
        return name

    def value(self, schema: Any, expr: str, indent: str) -> list[str]:
        """Lines that append the encoding of ``expr`` (of type ``schema``) to ``out``."""
        if isinstance(schema, str):
            schema = self.named.get(schema, schema)
        if isinstance(schema, list):
            return self.union(schema, expr, indent)
        if isinstance(schema, dict):
            return self.complex(schema, expr, indent)
        return [f"{indent}out.append({self.primitive(schema, expr)})"] if schema != "null" \
            else []

    def primitive(self, schema: str, expr: str) -> str:
        """An expression for the encoding of a primitive value."""
        return {"string": f"_string({expr})", "int": f"_int({expr})",
                "long": f"_int({expr})", "bytes": f"_bytes({expr})",
                "boolean": f"(b'\\x01' if {expr} else b'\\x00')"}[schema]

    def complex(self, schema: dict[str, Any], expr: str, indent: str) -> list[str]:
        """Lines for a record, array, map, enum or logical type."""
        kind, logical = schema["type"], schema.get("logicalType")
        if logical == "date":
            return [f"{indent}out.append(_date({expr}))"]
        if logical == "timestamp-micros":
            return [f"{indent}out.append(_micros({expr}))"]
        if kind == "record":
            return [f"{indent}{self.record(schema)}({expr}, out)"]
        if kind == "enum":
            index = {symbol: i for i, symbol in enumerate(schema["symbols"])}
            return [f"{indent}out.append(_VARINTS[{index!r}[{expr}]])"]
        if kind in ("array", "map"):
            return self.repeated(schema, expr, indent)
        return self.value(kind, expr, indent)

    def repeated(self, schema: dict[str, Any], expr: str, indent: str) -> list[str]:
        """Lines for an array (one block) or a map."""
        n = next(self._ids)
        items, item = f"_items{n}", f"_item{n}"
        inner = indent + "    "
        lines = [f"{indent}{items} = {expr}", f"{indent}if {items}:",
                 f"{inner}out.append(_int(len({items})))"]
        if schema["type"] == "map":
            lines += [f"{inner}for _key{n}, {item} in {items}.items():",
                      f"{inner}    out.append(_string(_key{n}))"]
            lines += self.value(schema["values"], item, inner + "    ")
        else:
            items_schema = schema["items"]
            lines.append(f"{inner}for {item} in {items}:")
            body = self.value(items_schema, item, inner + "        ")
            resolved = self.named.get(items_schema, items_schema) \
                if isinstance(items_schema, str) else items_schema
            if isinstance(resolved, dict) and resolved.get("type") == "record":
                # A record already written by its own writer goes in as its bytes.
                lines += [f"{inner}    if type({item}) is bytes:",
                          f"{inner}        out.append({item})", f"{inner}    else:"]
                lines += body
            else:
                lines += [line[4:] for line in body]
        lines.append(f"{indent}out.append(b'\\x00')")
        return lines

    def union(self, branches: list[Any], expr: str, indent: str) -> list[str]:
        """Lines for a union: None for its null branch, the named branch for a record."""
        n = next(self._ids)
        value, branch_name = f"_v{n}", f"_branch{n}"
        lines = [f"{indent}{value} = {expr}",
                 # fastavro's two notations of a record's branch: ``-type``, or a pair
                 f"{indent}if type({value}) is tuple:",
                 f"{indent}    {branch_name}, {value} = {value}",
                 f"{indent}else:",
                 f"{indent}    {branch_name} = {value}.get('-type') if type({value}) is dict "
                 "else None"]
        keyword = "if"
        for index, branch in enumerate(branches):
            resolved = self.named.get(branch, branch) if isinstance(branch, str) else branch
            if resolved == "null":
                test = f"{value} is None"
            elif isinstance(resolved, dict) and resolved.get("type") == "record":
                test = f"{branch_name} == {resolved['name']!r}"
            else:
                test = "True"
            lines.append(f"{indent}{keyword} {test}:")
            lines.append(f"{indent}    out.append({_int(index)!r})")
            lines += self.value(resolved, value, indent + "    ")
            keyword = "elif"
        lines += [f"{indent}else:",
                  f"{indent}    raise ValueError(f'{{{value}!r}} matches no branch of a union')"]
        return lines


def compile_writer(schema: dict[str, Any], header: bytes) -> Callable[[Any], bytes]:
    """A function writing a record of the parsed ``schema`` as ``header`` + Avro body."""
    compiler = _Compiler(schema.get("__named_schemas", {}))
    top = compiler.record(schema)
    source = "\n\n".join("\n".join(lines) for lines in compiler.functions.values())
    source += (f"\n\ndef write(record):\n    out = [{header!r}]\n    {top}(record, out)\n"
               "    return b''.join(out)\n")
    scope = dict(_HELPERS)
    exec(compile(source, f"<avro writer {schema['name']}>", "exec"), scope)
    writer: Callable[[Any], bytes] = scope["write"]
    return writer
