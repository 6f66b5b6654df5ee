"""What the Parquet sink tells Prometheus: records and files written, quarantine, flush time."""

from prometheus_client import CollectorRegistry, Counter, Histogram


class ParquetMetrics:
    """The sink's metrics on ``registry`` (docs/operations.md lists them)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.records = Counter(
            "ledger_parquet_records_written", "Records of each source topic written to the "
            "warehouse (rows, or quarantine rows)", ["topic"], registry=registry)
        self.files = Counter("ledger_parquet_files_written", "Parquet files made visible, by "
                             "entity", ["entity"], registry=registry)
        self.quarantined = Counter(
            "ledger_parquet_records_quarantined", "Records written to the quarantine entity "
            "instead of their own", ["topic"], registry=registry)
        self.flush_seconds = Histogram(
            "ledger_parquet_flush_seconds", "Writing and renaming one flush's files",
            registry=registry)
