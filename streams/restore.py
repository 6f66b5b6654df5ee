"""Bringing a partition's RocksDB state up to what Kafka has committed.

The balances and transactions topics are the changelogs of the state (the processor writes
them in the same transaction as everything else). Restore reads each from the offset the
state already reflects to the topic's true end: the high watermark, not the last stable
offset, so a transaction still open by a previous owner is waited for (it commits or is
aborted within ``transaction.timeout.ms``) rather than silently cut off. Only committed
records are applied (``read_committed``). Every record must decode with its family's schema:
one that does not (only a forged or corrupted record can) is left out of the state and
reported as quarantined, so the state never holds bytes the processor cannot read.
"""

import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

from confluent_kafka import Consumer, TopicPartition

from ledger_core import RejectionCode
from schemas.codec import DecodeError, codec
from streams.errors import StateError
from streams.kafka_config import kafka_config
from streams.offsets import end_offset
from streams.outputs import Quarantined, Source
from streams.state import FAMILY_SCHEMAS, PartitionState

log = logging.getLogger(__name__)
CHUNK = 10_000
RESTORE_STALL_S = 300.0

# Told after each chunk written: the topic, the partition, the records just applied and the
# offsets left to read.
Progress = Callable[[str, int, int, int], None]


def restore(bootstrap: str, store: PartitionState, changelogs: dict[str, bytes],
            partition: int, quarantined: list[Quarantined] | None = None,
            progress: Progress | None = None) -> int:
    """Apply every committed changelog record the state lacks; return how many were applied.

    ``changelogs`` maps each restoring topic to its state family (``BALANCE``,
    ``TRANSACTION``, ``HOLDER``); records that do not decode go to ``quarantined``;
    ``progress`` hears of every chunk.
    """
    restored = 0
    found = [] if quarantined is None else quarantined
    for topic, family in changelogs.items():
        restored += _restore_topic(bootstrap, store, topic, family, partition, found,
                                   progress or _unheard)
    return restored


def _unheard(topic: str, partition: int, applied: int, remaining: int) -> None:
    """Progress nobody listens to."""


def _restore_topic(bootstrap: str, store: PartitionState, topic: str, family: bytes,
                   partition: int, quarantined: list[Quarantined], progress: Progress) -> int:
    start = store.next_offset(topic)
    end = _high_watermark(bootstrap, topic, partition)
    if start > end:
        raise StateError(
            f"the state in {store.path} says {topic}[{partition}] was read to offset {start}, "
            f"but the topic ends at {end}: the topic was recreated or the state belongs to "
            "another cluster. Move the state directory away to rebuild it from Kafka."
        )
    progress(topic, partition, 0, end - start)
    if start == end:
        return 0
    consumer = Consumer(kafka_config(bootstrap, {
        "group.id": f"restore-{uuid.uuid4()}",
        "isolation.level": "read_committed", "enable.auto.commit": False,
        "fetch.max.bytes": 64 * 1024 * 1024, "fetch.wait.max.ms": 10,
    }))
    consumer.assign([TopicPartition(topic, partition, start)])
    applied = 0
    schemas = FAMILY_SCHEMAS[family]
    chunk: list[tuple[bytes, bytes]] = []
    position = start
    last_progress = time.monotonic()
    try:
        while position < end:
            messages = consumer.consume(CHUNK, timeout=0.05)
            for message in messages:
                value = message.value()
                if message.error() is None and value is not None \
                        and _decodes(schemas, message, quarantined):
                    chunk.append((family + _key(message), value))
            new_position = consumer.position([TopicPartition(topic, partition)])[0].offset
            if new_position > position:
                position, last_progress = new_position, time.monotonic()
            elif time.monotonic() - last_progress > RESTORE_STALL_S:
                raise StateError(f"restoring {topic}[{partition}] stalled at offset {position} "
                                 f"of {end} for {RESTORE_STALL_S:.0f}s")
            if len(chunk) >= CHUNK or position >= end:
                store.write(chunk, {topic: position})
                applied += len(chunk)
                progress(topic, partition, len(chunk), max(end - position, 0))
                chunk = []
    finally:
        consumer.close()
    log.info("restored %d records of %s[%d] (offsets %d..%d)", applied, topic, partition,
             start, end, extra={"topic": topic, "partition": partition, "restored": applied})
    return applied


def _decodes(schemas: tuple[str, str], message: Any, quarantined: list[Quarantined]) -> bool:
    key_schema, value_schema = schemas
    try:
        codec().decode(key_schema, message.key())
        codec().decode(value_schema, message.value())
    except DecodeError as exc:
        log.warning("%s[%d]@%d not restored: %s", message.topic(), message.partition(),
                    message.offset(), exc, extra={"topic": message.topic(),
                                                  "partition": message.partition(),
                                                  "offset": message.offset()})
        quarantined.append(Quarantined(
            Source(message.topic(), message.partition(), message.offset()), message.key(),
            message.value(), RejectionCode.RECORD_NOT_DECODABLE, str(exc)))
        return False
    return True


def _key(message: Any) -> bytes:
    key: bytes = message.key()
    return key


def _high_watermark(bootstrap: str, topic: str, partition: int) -> int:
    consumer = Consumer(kafka_config(bootstrap, {"group.id": f"hw-{uuid.uuid4()}",
                                                 "isolation.level": "read_uncommitted"}))
    try:
        return end_offset(consumer, topic, partition)
    finally:
        consumer.close()
