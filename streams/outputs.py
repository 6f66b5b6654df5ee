"""What the processor writes for each input: decisions turned into Kafka records.

Handlers return ``Output`` values and stage state writes on the partition task; the loop
produces the outputs inside the batch's transaction. Nothing here talks to Kafka.
"""

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from ledger_core import (
    Posted,
    PostedTransaction,
    Rejected,
    Rejection,
    RejectionCode,
)
from ledger_core.input_bounds import shown
from schemas import mapping
from schemas.codec import codec
from streams.partition_task import PartitionTask
from streams.partitioning import account_key, owner_partition
from streams.topics import Topics

# The longest message a result or dead letter carries; the rule's code says the rest.
MESSAGE_LENGTH_MAX = 2000
# The status a dead letter is counted under among a batch's answers (``Output.answer``).
DEAD_LETTER = "DEAD_LETTER"


@dataclass(frozen=True)
class Output:
    """One record to produce; ``changelog`` marks records that restore state, ``answer``
    the answers the processor counts: a posting command's result (its status and code) or
    a dead letter (``DEAD_LETTER`` and its code)."""

    topic: str
    partition: int
    key: bytes
    value: bytes
    changelog: bool = False
    answer: tuple[str, str] | None = None


@dataclass(frozen=True)
class Source:
    """Where an input record came from."""

    topic: str
    partition: int
    offset: int


@dataclass(frozen=True)
class Quarantined:
    """A record found outside any transaction (by the catalog reader, by restore) that was
    not applied; the next batch writes it to the dead-letters topic."""

    source: Source
    key: bytes | None
    value: bytes | None
    code: RejectionCode
    error: str


_POSTED = ("POSTED", "")


def command_key(command_id: str) -> bytes:
    """The framed CommandKey of a result."""
    return codec().encode("command_key", {"command_id": command_id})


def posted_outputs(topics: Topics, task: PartitionTask, command_id: str, decision: Posted,
                   source: Source, now: datetime) -> list[Output]:
    """Everything a posting writes: entries, legs, balances, the transaction and its result."""
    n = task.partitions
    outputs = []
    bodies = []
    for entry in decision.entries:
        # Each entry is encoded once: the entries topic, a leg and the transaction record
        # carry the same bytes.
        record = codec().encode("entry", mapping.entry_record(entry))
        bodies.append(codec().body(record))
        key = account_key(entry.account_id)
        owner = owner_partition(entry.account_id, n)
        outputs.append(Output(topics.entries, owner, key, record))
        # One leg per other partition that owns the account or a set the entry rolls up
        # into; that partition folds it onto each of them that it owns.
        legs = {owner} | {owner_partition(s, n) for s in entry.parent_account_ids}
        legs.discard(task.partition)
        outputs.extend(Output(topics.legs, p, key, record) for p in sorted(legs))
    for balance in decision.balances:
        key, value = task.stage_balance(balance)
        outputs.append(Output(topics.balances, task.partition, key, value, changelog=True))
    posted = PostedTransaction(transaction=decision.transaction, entries=decision.entries)
    key, transaction = task.stage_transaction(posted, mapping.transaction_record(posted, bodies))
    outputs.append(Output(topics.transactions, task.partition, key, transaction,
                          changelog=True))
    if decision.voided is not None:
        original = task.posted(decision.voided.transaction_id)
        assert original is not None, "a void was decided without its original"
        updated = PostedTransaction(transaction=decision.voided, entries=original.entries)
        key, value = task.stage_transaction(updated)
        outputs.append(Output(topics.transactions, task.partition, key, value, changelog=True))
    result = result_record(command_id, "POSTED", source, now,
                           transaction_id=decision.transaction.transaction_id,
                           transaction=transaction, warnings=decision.warnings)
    outputs.append(Output(topics.results, task.partition, command_key(command_id), result,
                          answer=_POSTED))
    return outputs


def rejected_output(topics: Topics, partition: int, command_id: str, decision: Rejected,
                    source: Source, now: datetime) -> Output:
    """The result of a rejected command."""
    result = result_record(command_id, "REJECTED", source, now,
                           transaction_id=decision.transaction_id, rejection=decision.rejection)
    return Output(topics.results, partition, command_key(command_id), result,
                  answer=("REJECTED", decision.code.value))


def result_record(command_id: str, status: str, source: Source, now: datetime, *,
                  transaction_id: UUID | None = None,
                  transaction: bytes | None = None,
                  rejection: Rejection | None = None,
                  warnings: tuple[Rejection, ...] = (),
                  entity: dict[str, Any] | None = None) -> bytes:
    """A framed Result record."""
    return codec().encode("result", {
        "command_id": command_id, "status": status,
        "transaction_id": None if transaction_id is None else str(transaction_id),
        "code": None if rejection is None else rejection.code.value,
        "message": None if rejection is None else shown(rejection.message, MESSAGE_LENGTH_MAX),
        "field": None if rejection is None else _shown(rejection.field),
        "value": None if rejection is None else _shown(rejection.value),
        "detail_json": None if rejection is None else _detail(rejection.detail),
        "transaction": transaction,
        "warnings": [{"code": w.code.value, "message": shown(w.message, MESSAGE_LENGTH_MAX),
                      "field": _shown(w.field), "value": _shown(w.value),
                      "detail_json": _detail(w.detail)} for w in warnings],
        "entity_json": None if entity is None else json.dumps(entity, default=str),
        "source_topic": source.topic, "source_partition": source.partition,
        "source_offset": source.offset,
        "processed_at": now,
    })


def _shown(text: str | None) -> str | None:
    return None if text is None else shown(text)


def _detail(detail: dict[str, str] | None) -> str | None:
    return None if detail is None else json.dumps(
        {key: shown(value) for key, value in detail.items()})


def dead_letter(topics: Topics, source: Source, key: bytes | None, value: bytes | None,
                error: str, now: datetime,
                code: RejectionCode = RejectionCode.RECORD_NOT_DECODABLE) -> Output:
    """A dead-letter record carrying the raw input, where it came from and why it was not
    applied; for a record no client wrote (a leg, a catalog record) it is a quarantine
    record."""
    record = codec().encode("dead_letter", {
        "topic": source.topic, "partition": source.partition, "offset": source.offset,
        "key": key, "value": value, "error": shown(error, MESSAGE_LENGTH_MAX),
        "failed_at": now, "code": code.value,
    })
    return Output(topics.dead_letters, 0, key or b"", record, answer=(DEAD_LETTER, code.value))
