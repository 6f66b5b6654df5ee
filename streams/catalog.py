"""The catalog topic as a global table: every processor reads all of it into a ``Catalog``.

Journals, accounts, tran code versions, limits, cards and ISO 8583 configurations are few and
change rarely, so each process holds all of them in memory. A record that does not decode
into a valid entity (only a forged or corrupted one can) is skipped and kept in
``quarantined``: configuration that was not applied, which the catalog desk writes to the
dead-letters topic. ``refresh`` takes
what has arrived without waiting; ``catch_up`` reads to the topic's current end, which is
what makes a posting that follows its account's creation see the account (the creation
committed before the posting was sent).
"""

import logging
import time
import uuid
from typing import Any

from confluent_kafka import Consumer, TopicPartition

from ledger_core import (
    Account,
    AccountSet,
    AccountSetMember,
    Calculation,
    CalculationAttachment,
    Card,
    ControlAttachment,
    ControlLimit,
    Iso8583Config,
    Journal,
    RejectionCode,
    TranCode,
    VelocityControl,
    VelocityLimit,
)
from ledger_core.catalog import Catalog, CatalogEntity
from ledger_core.input_bounds import shown
from schemas import mapping
from schemas.codec import DecodeError, codec
from streams.errors import LedgerError
from streams.kafka_config import kafka_config
from streams.offsets import end_offset
from streams.outputs import Quarantined, Source

log = logging.getLogger(__name__)
CATCH_UP_STALL_S = 60.0
# The last step of a catch-up is usually the move past the last write's commit marker, which
# no message announces: a short wait per poll finds it, where a long one would be waited out.
CATCH_UP_POLL_S = 0.002


def catalog_key(entity: CatalogEntity) -> dict[str, str]:
    """The CatalogKey record of an entity: one compacted key per entity (per tran code version)."""
    if isinstance(entity, Journal):
        return {"kind": "journal", "id": str(entity.journal_id)}
    if isinstance(entity, Account):
        return {"kind": "account", "id": str(entity.account_id)}
    if isinstance(entity, TranCode):
        return {"kind": "tran_code", "id": f"{entity.code}:{entity.version}"}
    if isinstance(entity, Card):
        return {"kind": "card", "id": str(entity.card_id)}
    if isinstance(entity, Iso8583Config):
        return {"kind": "iso8583_config", "id": str(entity.config_id)}
    if isinstance(entity, AccountSet):
        return {"kind": "account_set", "id": str(entity.account_set_id)}
    if isinstance(entity, AccountSetMember):
        # One key per membership: compaction keeps whether the member is in the set now.
        return {"kind": "account_set_member",
                "id": f"{entity.account_set_id}:{entity.member_id}"}
    if isinstance(entity, Calculation):
        return {"kind": "calculation", "id": str(entity.calculation_id)}
    if isinstance(entity, CalculationAttachment):
        return {"kind": "calculation_attachment", "id": f"{entity.calculation_id}:"
                f"{entity.account_id}:{entity.journal_id}"}
    if isinstance(entity, ControlLimit):
        return {"kind": "velocity_limit", "id": str(entity.velocity_limit_id)}
    if isinstance(entity, VelocityControl):
        return {"kind": "velocity_control", "id": str(entity.velocity_control_id)}
    if isinstance(entity, ControlAttachment):
        return {"kind": "velocity_control_attachment", "id": f"{entity.velocity_control_id}:"
                f"{entity.account_id}:{entity.journal_id}"}
    return {"kind": "limit", "id": str(entity.limit_id)}


def catalog_value(entity: CatalogEntity) -> dict[str, Any]:
    """The Avro union branch and record of an entity, for a CatalogRecord."""
    if isinstance(entity, Journal):
        return {"-type": "ledger.Journal", **mapping.journal_record(entity)}
    if isinstance(entity, Account):
        return {"-type": "ledger.Account", **mapping.account_record(entity)}
    if isinstance(entity, TranCode):
        return {"-type": "ledger.TranCode", **mapping.tran_code_record(entity)}
    if isinstance(entity, Card):
        return {"-type": "ledger.Card", **mapping.card_record(entity)}
    if isinstance(entity, Iso8583Config):
        return {"-type": "ledger.Iso8583Config", **mapping.iso8583_config_record(entity)}
    if isinstance(entity, AccountSet):
        return {"-type": "ledger.AccountSet", **mapping.account_set_record(entity)}
    if isinstance(entity, AccountSetMember):
        return {"-type": "ledger.AccountSetMember",
                **entity.model_dump(mode="json")}
    if isinstance(entity, Calculation):
        return {"-type": "ledger.Calculation", **mapping.calculation_record(entity)}
    if isinstance(entity, CalculationAttachment):
        return {"-type": "ledger.CalculationAttachment", **entity.model_dump(mode="json")}
    if isinstance(entity, ControlLimit):
        return {"-type": "ledger.ControlLimit", **mapping.control_limit_record(entity)}
    if isinstance(entity, VelocityControl):
        return {"-type": "ledger.VelocityControl", **entity.model_dump(mode="json")}
    if isinstance(entity, ControlAttachment):
        return {"-type": "ledger.ControlAttachment",
                **mapping.control_attachment_record(entity)}
    return {"-type": "ledger.VelocityLimit", **mapping.limit_record(entity)}


def entity_from(record: dict[str, Any]) -> CatalogEntity:
    """The entity of a decoded CatalogRecord."""
    type_name, body = record["entity"]
    if type_name == "ledger.Journal":
        return mapping.journal_from(body)
    if type_name == "ledger.Account":
        return mapping.account_from(body)
    if type_name == "ledger.TranCode":
        return mapping.tran_code_from(body)
    if type_name == "ledger.Card":
        return mapping.card_from(body)
    if type_name == "ledger.Iso8583Config":
        return mapping.iso8583_config_from(body)
    if type_name == "ledger.AccountSet":
        return mapping.account_set_from(body)
    if type_name == "ledger.AccountSetMember":
        return AccountSetMember.model_validate(body)
    if type_name == "ledger.Calculation":
        return mapping.calculation_from(body)
    if type_name == "ledger.CalculationAttachment":
        return CalculationAttachment.model_validate(body)
    if type_name == "ledger.ControlLimit":
        return mapping.control_limit_from(body)
    if type_name == "ledger.VelocityControl":
        return VelocityControl.model_validate(body)
    if type_name == "ledger.ControlAttachment":
        return mapping.control_attachment_from(body)
    return VelocityLimit.model_validate(body)


class CatalogReader:
    """Feeds a Catalog from the catalog topic (read_committed, from the beginning)."""

    def __init__(self, bootstrap: str, topic: str, table: Catalog | None = None) -> None:
        self.table = table or Catalog()
        self._topic = topic
        self._consumer = Consumer(kafka_config(bootstrap, {
            "group.id": f"catalog-reader-{uuid.uuid4()}",
            "isolation.level": "read_committed", "enable.auto.commit": False,
            "auto.offset.reset": "earliest", "enable.partition.eof": False,
            # A catalog command waits until the desk has read the topic to its end, which
            # is a fetch past the last write's commit marker: the broker would hold that
            # fetch for the default 500 ms before answering that nothing more has come.
            "fetch.wait.max.ms": 10,
        }))
        self._consumer.assign([TopicPartition(topic, 0, 0)])
        self.position = 0
        self.quarantined: list[Quarantined] = []

    def refresh(self) -> int:
        """Apply what has already arrived, without waiting; return how many records."""
        return self._apply(self._consumer.consume(1000, timeout=0))

    def catch_up(self, stall_s: float = CATCH_UP_STALL_S) -> int:
        """Read to the topic's current committed end; give up only if reading stalls.
        Return how many entities it applied."""
        end = end_offset(self._consumer, self._topic, 0)
        progressed = time.monotonic()
        applied = 0
        while self.position < end:
            if time.monotonic() - progressed > stall_s:
                raise LedgerError(f"reading the catalog stalled at offset {self.position} of "
                                  f"{end} for {stall_s:.0f}s")
            applied += self._apply(self._consumer.consume(10_000, timeout=CATCH_UP_POLL_S))
            position = self._consumer.position([TopicPartition(self._topic, 0)])[0].offset
            if position > self.position:
                self.position, progressed = position, time.monotonic()
        return applied

    def _apply(self, messages: list[Any]) -> int:
        count = 0
        for message in messages:
            if message.error() is not None:
                continue
            self.position = message.offset() + 1
            try:
                entity = entity_from(codec().decode("catalog_record", message.value()))
            except Exception as exc:  # a record no desk wrote: skip it, never stop on it
                self._quarantine(message, exc)
                continue
            self.table.put(entity)
            count += 1
        return count

    def _quarantine(self, message: Any, exc: Exception) -> None:
        code = (RejectionCode.RECORD_NOT_DECODABLE if isinstance(exc, DecodeError)
                else RejectionCode.RECORD_NOT_VALID)
        log.warning("catalog record at offset %d not applied (%s): %s", message.offset(),
                    code.value, shown(str(exc)))
        self.quarantined.append(Quarantined(
            Source(self._topic, 0, message.offset()), message.key(), message.value(), code,
            f"{type(exc).__name__}: {exc}"))

    def take_quarantined(self) -> list[Quarantined]:
        """The records skipped since the last call (the desk writes them to dead-letters)."""
        taken, self.quarantined = self.quarantined, []
        return taken

    def close(self) -> None:
        """Leave the topic."""
        self._consumer.close()
