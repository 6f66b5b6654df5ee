"""The views before the sink has written anything, and the errors of ``ledger sql``."""

from pathlib import Path

import pytest

from connectors.parquet_sink import Warehouse
from connectors.parquet_sink.store import Store
from connectors.parquet_sink.warehouse import VIEWS
from ledger_cli.main import main


def test_an_empty_warehouse_has_every_view_with_its_columns(tmp_path: Path) -> None:
    """A warehouse the sink has only created: each view is empty and has its columns."""
    Store(str(tmp_path / "w"))
    warehouse = Warehouse(str(tmp_path / "w"))
    for view in VIEWS:
        assert warehouse.query(f"SELECT count(*) AS n FROM {view}").to_pylist() == [{"n": 0}]
    columns = warehouse.query("SELECT * FROM balances").column_names
    assert {"settled_normal_balance", "version", "modified", "date"} <= set(columns)
    assert warehouse.query("SELECT typeof(units) AS t FROM entries").num_rows == 0
    assert str(warehouse.query("SELECT units FROM entries").schema.field("units").type) == \
        "decimal128(38, 4)"


def test_ledger_sql_says_what_is_wrong(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                       ) -> None:
    """No warehouse, bad SQL, parquet without a file: one message each, exit 1."""
    assert main(["sql", "--warehouse", str(tmp_path / "none"), "SELECT 1"]) == 1
    assert "no warehouse at" in capsys.readouterr().err
    Store(str(tmp_path / "w"))
    assert main(["sql", "--warehouse", str(tmp_path / "w"), "SELECT * FROM nowhere"]) == 1
    assert "nowhere" in capsys.readouterr().err
    assert main(["sql", "--warehouse", str(tmp_path / "w"), "--format", "parquet",
                 "SELECT 1"]) == 1
    assert "--output" in capsys.readouterr().err
