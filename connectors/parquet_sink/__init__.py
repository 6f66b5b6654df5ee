"""The Parquet sink: the ledger's entries, transactions and balance versions as Parquet files,
written exactly once, and SQL over them (``warehouse``). See ``docs/warehouse.md``."""

from connectors.parquet_sink.buffer import RollPolicy
from connectors.parquet_sink.sink import ParquetSink, SinkStats
from connectors.parquet_sink.warehouse import Warehouse, default_warehouse

__all__ = ["ParquetSink", "RollPolicy", "SinkStats", "Warehouse", "default_warehouse"]
