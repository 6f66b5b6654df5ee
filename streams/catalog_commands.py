"""The catalog desk: decides catalog commands, in order, on the one catalog-commands partition.

Before a batch's first catalog command the desk reads the catalog topic to its end, so it
sees every committed change, including those of a processor that held the partition before.
Decisions within a batch see the batch's earlier changes through a working copy, which
becomes part of the shared table only once the batch's transaction has committed.
"""

import json
from datetime import datetime
from decimal import Decimal

from confluent_kafka import Message

from ledger_core import Rejected
from ledger_core.catalog import Catalog, CatalogEntity, CatalogKind, decide_catalog
from schemas.codec import DecodeError, codec
from streams.catalog import CatalogReader, catalog_key, catalog_value
from streams.outputs import Output, Source, command_key, dead_letter, result_record
from streams.partitioning import partition_for_key
from streams.topics import Topics


class CatalogDesk:
    """Decides catalog commands and produces catalog records and results."""

    def __init__(self, topics: Topics, reader: CatalogReader) -> None:
        self._topics = topics
        self._reader = reader
        self._working: Catalog | None = None
        self._pending: list[CatalogEntity] = []

    def handle(self, message: Message, source: Source, now: datetime) -> list[Output]:
        """Decide one catalog command; return the catalog record and result to produce."""
        try:
            record = codec().decode("catalog_command", message.value())
            body = json.loads(record["body_json"], parse_float=Decimal)
        except (DecodeError, ValueError) as exc:
            return [dead_letter(self._topics, source, message.key(), message.value(),
                                str(exc), now)]
        working = self._working_copy()
        decision = decide_catalog(working, CatalogKind(record["kind"]), body)
        key = command_key(record["command_id"])
        partition = partition_for_key(key, self._topics.partitions)
        if isinstance(decision, Rejected):
            result = result_record(record["command_id"], "REJECTED", source, now,
                                   rejection=decision.rejection)
            return [Output(self._topics.results, partition, key, result)]
        working.put(decision)
        self._pending.append(decision)
        value = codec().encode("catalog_record", {
            "entity": catalog_value(decision), "command_id": record["command_id"],
            "written_at": now})
        entity = decision.model_dump(mode="json", by_alias=True)
        result = result_record(record["command_id"], "APPLIED", source, now, entity=entity)
        return [
            Output(self._topics.catalog, 0, codec().encode("catalog_key", catalog_key(decision)),
                   value),
            Output(self._topics.results, partition, key, result),
        ]

    def _working_copy(self) -> Catalog:
        if self._working is None:
            self._reader.catch_up()
            self._working = self._reader.table.copy()
        return self._working

    def committed(self) -> None:
        """The batch committed: its changes join the shared table."""
        for entity in self._pending:
            self._reader.table.put(entity)
        self.discard_pending()

    def discard_pending(self) -> None:
        """The batch aborted (or committed): forget the working copy."""
        self._working = None
        self._pending = []

