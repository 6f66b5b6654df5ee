"""``ledger sql``: SQL over the Parquet warehouse, one statement or interactively."""

import argparse
import csv
import io
import json
import sys
from typing import Any

import pyarrow as pa

from connectors.parquet_sink import Warehouse, default_warehouse
from connectors.parquet_sink.warehouse import VIEWS, write_parquet
from ledger_cli.common import key_values
from ledger_cli.rendering import render_table
from streams.errors import LedgerError

FORMATS = ("table", "csv", "json", "parquet")


def register(commands: Any) -> None:
    """Add ``sql``."""
    sql = commands.add_parser(
        "sql", help="SQL over the Parquet warehouse (views: " + ", ".join(VIEWS) + ")")
    sql.add_argument("query", nargs="?", default=None,
                     help="the statement(s) to run; without one, an interactive prompt")
    sql.add_argument("--warehouse", default=default_warehouse(),
                     help=f"the sink's --out (default: {default_warehouse()})")
    sql.add_argument("--format", choices=FORMATS, default="table")
    sql.add_argument("--output", default=None, help="write here instead of stdout "
                                                    "(required with --format parquet)")
    sql.add_argument("--param", action="append", metavar="NAME=VALUE",
                     help="a value the query reads as getvariable('NAME') (repeatable)")
    sql.set_defaults(handler=_sql)


def _sql(args: argparse.Namespace) -> None:
    fmt = "json" if args.json and args.format == "table" else args.format
    if fmt == "parquet" and args.output is None:
        raise LedgerError("--format parquet writes a file: add --output FILE")
    warehouse = Warehouse(args.warehouse)
    try:
        for name, value in key_values(args.param).items():
            warehouse.set_variable(name, value)
        if args.query is not None:
            _emit(warehouse.query(args.query), fmt, args.output)
        else:
            _interactive(warehouse, fmt)
    finally:
        warehouse.close()


def _interactive(warehouse: Warehouse, fmt: str) -> None:
    """Statements end with ``;``; an error is printed and the prompt goes on."""
    print("views: " + ", ".join(VIEWS) + "; end a statement with ';', quit with Ctrl-D",
          file=sys.stderr)
    pending: list[str] = []
    while True:
        try:
            line = input("ledger> " if not pending else "   ...> ")
        except EOFError:
            print(file=sys.stderr)
            return
        pending.append(line)
        statement = "\n".join(pending).strip()
        if not statement.endswith(";"):
            continue
        pending = []
        warehouse.refresh()
        try:
            _emit(warehouse.query(statement), "table" if fmt == "parquet" else fmt, None)
        except LedgerError as exc:
            print(f"error: {exc}", file=sys.stderr)


def _emit(table: pa.Table, fmt: str, output: str | None) -> None:
    if fmt == "parquet":
        assert output is not None
        write_parquet(table, output)
        return
    text = {"table": _table, "csv": _csv, "json": _json}[fmt](table)
    if output is None:
        print(text)
    else:
        with open(output, "w", encoding="utf-8") as out:
            out.write(text + "\n")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.hex()
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _table(table: pa.Table) -> str:
    rows = [[_cell(v) for v in row.values()] for row in table.to_pylist()]
    count = f"({len(rows)} row{'s' if len(rows) != 1 else ''})"
    return render_table(table.column_names, rows) + f"\n{count}" if table.num_columns \
        else count


def _csv(table: pa.Table) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(table.column_names)
    writer.writerows([_cell(v) for v in row.values()] for row in table.to_pylist())
    return buffer.getvalue().rstrip("\n")


def _json(table: pa.Table) -> str:
    # Decimals are written as strings, like every amount of the ledger: never as floats.
    rows = [{name: None if value is None else _json_value(value)
             for name, value in row.items()} for row in table.to_pylist()]
    return json.dumps(rows, indent=2)


def _json_value(value: Any) -> Any:
    if isinstance(value, bool | int | float | str):
        return value
    return _cell(value)
