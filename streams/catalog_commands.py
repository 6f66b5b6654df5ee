"""The catalog desk: decides catalog commands, in order, on the one catalog-commands partition.

Before a batch's first catalog command the desk reads the catalog topic to its end, so it
sees every committed change, including those of a processor that held the partition before.
Decisions within a batch see the batch's earlier changes through a working copy, which
becomes part of the shared table only once the batch's transaction has committed.
"""

from datetime import datetime
from typing import Any

from confluent_kafka import Message

from ledger_core import Rejected, Rejection, RejectionCode
from ledger_core.catalog import Catalog, CatalogEntity, CatalogKind, decide_catalog
from schemas.codec import DecodeError, codec
from schemas.mapping import JsonTooDeepError, load_json
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
        except DecodeError as exc:
            return [dead_letter(self._topics, source, message.key(), message.value(),
                                str(exc), now)]
        key = command_key(record["command_id"])
        partition = partition_for_key(key, self._topics.partitions)
        decision = self._decide(record)
        if isinstance(decision, Rejected):
            result = result_record(record["command_id"], "REJECTED", source, now,
                                   rejection=decision.rejection)
            return [Output(self._topics.results, partition, key, result)]
        value = codec().encode("catalog_record", {
            "entity": catalog_value(decision), "command_id": record["command_id"],
            "written_at": now})
        entity = decision.model_dump(mode="json", by_alias=True)
        result = result_record(record["command_id"], "APPLIED", source, now, entity=entity)
        outputs = [
            Output(self._topics.catalog, 0, codec().encode("catalog_key", catalog_key(decision)),
                   value),
            Output(self._topics.results, partition, key, result),
        ]
        # Only once every record of the decision is encoded does it join the working copy.
        self._working_copy().put(decision)
        self._pending.append(decision)
        return outputs

    def _decide(self, record: dict[str, Any]) -> CatalogEntity | Rejected:
        try:
            kind = CatalogKind(record["kind"])
            body = load_json(record["body_json"])
        except JsonTooDeepError as exc:
            return _refused(RejectionCode.JSON_TOO_DEEP, f"body: {exc}")
        except ValueError as exc:
            return _refused(RejectionCode.CATALOG_COMMAND_INVALID, f"not a catalog command: {exc}")
        if not isinstance(body, dict):
            return _refused(RejectionCode.CATALOG_COMMAND_INVALID, "the body must be an object")
        return decide_catalog(self._working_copy(), kind, body)

    def _working_copy(self) -> Catalog:
        if self._working is None:
            if not self._pending:
                self._reader.catch_up()
            self._working = self._reader.table.copy()
            for entity in self._pending:
                self._working.put(entity)
        return self._working

    def savepoint(self) -> int:
        """A mark to roll back to: the changes decided so far in this batch."""
        return len(self._pending)

    def rollback(self, mark: int) -> None:
        """Take back the changes decided since ``mark`` (their command failed)."""
        if len(self._pending) > mark:
            self._pending = self._pending[:mark]
            self._working = None

    def committed(self) -> None:
        """The batch committed: its changes join the shared table."""
        for entity in self._pending:
            self._reader.table.put(entity)
        self.discard_pending()

    def discard_pending(self) -> None:
        """The batch aborted (or committed): forget the working copy."""
        self._working = None
        self._pending = []


def _refused(code: RejectionCode, message: str) -> Rejected:
    return Rejected.of(None, Rejection(code=code, message=message))
