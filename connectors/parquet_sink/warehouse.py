"""SQL over the sink's files: DuckDB with one view per question people ask of a ledger.

The views read the files through pyarrow datasets on the same filesystem layer the sink
writes with, so a warehouse on ``s3://`` or ``gs://`` is queried as a local one is. An
entity without files yet is an empty view with its full set of columns.

| view | rows |
|---|---|
| ``entries`` | every entry (the journal of record) |
| ``transactions`` | every transaction, as its latest record says (``voided_by`` set once voided) |
| ``balances`` | the latest version of every (account, journal, currency) |
| ``balance_history`` | every balance version the sink saw |
| ``quarantine`` | records the sink could not write as their entity, with why |
"""

import re
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
from pyarrow import fs

from connectors.parquet_sink.columns import BALANCES, ENTRIES, QUARANTINE, TRANSACTIONS, Entity
from connectors.parquet_sink.store import filesystem
from streams.errors import LedgerError
from streams.settings import state_root

_DATE = pa.field("date", pa.date32())
_HIVE = ds.partitioning(pa.schema([_DATE]), flavor="hive")
_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
VIEWS = {
    "entries": "SELECT * FROM _entries_files",
    "transactions": "SELECT * FROM _transactions_files "
                    "QUALIFY row_number() OVER (PARTITION BY transaction_id "
                    "ORDER BY kafka_offset DESC) = 1",
    "balances": "SELECT * FROM _balances_files "
                "QUALIFY row_number() OVER (PARTITION BY account_id, journal_id, currency "
                "ORDER BY version DESC, kafka_offset DESC) = 1",
    "balance_history": "SELECT * FROM _balances_files",
    "quarantine": "SELECT * FROM _quarantine_files",
}


def default_warehouse() -> str:
    """Where the sink writes and ``ledger sql`` reads unless told otherwise."""
    return str(state_root() / "warehouse")


class Warehouse:
    """A DuckDB connection with the warehouse's views."""

    def __init__(self, out: str) -> None:
        self.fs, self.root = filesystem(out)
        if self.fs.get_file_info(self.root).type == fs.FileType.NotFound:
            raise LedgerError(f"no warehouse at {out}: run `ledger sink parquet run --out "
                              f"{out}` to write one")
        self.connection = duckdb.connect()
        self.refresh()

    def _dataset(self, entity: Entity) -> Any:
        base = f"{self.root}/entity={entity.name}"
        schema = entity.schema.append(_DATE)
        if self.fs.get_file_info(base).type != fs.FileType.Directory:
            return ds.dataset([], schema=schema, format="parquet")
        return ds.dataset(base, schema=schema, format="parquet", filesystem=self.fs,
                          partitioning=_HIVE)

    def refresh(self) -> None:
        """See the files written since the views were made."""
        for entity in (ENTRIES, TRANSACTIONS, BALANCES, QUARANTINE):
            self.connection.register(f"_{entity.name}_files", self._dataset(entity))
        for name, body in VIEWS.items():
            self.connection.execute(f"CREATE OR REPLACE VIEW {name} AS {body}")

    def set_variable(self, name: str, value: str) -> None:
        """A value queries read with ``getvariable('name')``."""
        if _VARIABLE.fullmatch(name) is None:
            raise LedgerError(f"{name!r} is not a variable name")
        # Quoted, so that names SQL reserves (from, to) are variables too.
        self.connection.execute(f'SET VARIABLE "{name}" = $1', [value])

    def query(self, sql: str) -> pa.Table:
        """The result of ``sql`` (the last statement's, for several) as an Arrow table."""
        try:
            relation = self.connection.sql(sql)
            return pa.table({}) if relation is None else relation.to_arrow_table()
        except duckdb.Error as exc:
            raise LedgerError(str(exc)) from exc

    def close(self) -> None:
        """Close the connection."""
        self.connection.close()


def write_parquet(table: pa.Table, output: str) -> None:
    """A query's result as one Parquet file (a local path or a URI)."""
    if "://" not in output:
        output = str(Path(output).expanduser().resolve())
    pq.write_table(table, output, compression="zstd")
