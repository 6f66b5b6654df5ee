"""Deciding one input record of a batch: its handler, and the containment around it.

Every record gets exactly one typed outcome inside the batch's transaction, whatever it
holds. A handler's failure is contained to its record: the writes it staged are taken back,
the record is answered (a REJECTED result for a command a client sent, a quarantine record
on the dead-letters topic for a leg or registry message no client wrote), and the batch
goes on. Only what says that this process cannot go on safely is let through: an error of
the local state (``StateError``), of Kafka, or of the ledger's own configuration
(``LedgerError``).

A decision whose records are larger than their topic accepts is answered
``record_too_large`` before anything is produced, so Kafka never refuses a batch for it.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any
from uuid import UUID

from confluent_kafka import KafkaException, Message

from ledger_core import (
    Command,
    Decision,
    Posted,
    Rejected,
    Rejection,
    RejectionCode,
    apply_remote_entries,
)
from ledger_core.batch import decide_batch
from schemas import mapping
from schemas.codec import DecodeError, codec
from streams.catalog import CatalogReader
from streams.catalog_commands import CatalogDesk
from streams.errors import LedgerError
from streams.id_registry import IdRegistry
from streams.outputs import (
    Output,
    Source,
    command_key,
    dead_letter,
    posted_outputs,
    rejected_output,
    result_record,
)
from streams.partition_task import PartitionTask
from streams.partitioning import partition_for_key
from streams.topics import Topics

log = logging.getLogger(__name__)

# A decision that names a missing catalog entity is retried once after reading the catalog
# to its end: the entity may have been created just before the command was sent.
_CATALOG_MISSES = {RejectionCode.ACCOUNT_NOT_FOUND, RejectionCode.TRAN_CODE_NOT_FOUND,
                   RejectionCode.TRAN_CODE_VERSION_NOT_FOUND, RejectionCode.JOURNAL_NOT_FOUND}
# What a produced record costs beyond its key and value: record and batch headers.
RECORD_OVERHEAD_BYTES = 256


@dataclass(frozen=True, slots=True)
class _Admitted:
    """A command whose id is claimed, waiting to be decided with its partition's batch."""

    message: Message
    source: Source
    command_id: str
    command: Command


@dataclass
class BatchMarks:
    """What routing the batch's records left for the loop to do after the commit."""

    # Commands partitions stopped at (transaction id, offset): the registry must answer.
    blocked: dict[int, tuple[UUID, int]] = field(default_factory=dict)


class Router:
    """Routes each record of a batch to its handler and contains what goes wrong."""

    def __init__(self, topics: Topics, tasks: dict[int, PartitionTask],
                 catalog: CatalogReader, desk: CatalogDesk, registry: IdRegistry,
                 record_bytes_max: dict[str, int]) -> None:
        self.topics = topics
        self.tasks = tasks
        self.catalog = catalog
        self.desk = desk
        self.registry = registry
        self.record_bytes_max = record_bytes_max
        self.counts: Counter[str] = Counter()
        self._handlers: dict[str, Callable[[Message, Source, datetime, BatchMarks],
                                           list[Output]]] = {
            topics.legs: self._leg, topics.catalog_commands: self._catalog_command,
            topics.id_claims: self._id_claim,
        }

    def route(self, message: Message, now: datetime, marks: BatchMarks) -> list[Output]:
        """The outputs of one leg, catalog command or id claim: its handler's, or the
        answer to its failure."""
        handler = self._handlers[message.topic() or ""]
        outputs, _applied = self._contained(
            message, now, lambda source: handler(message, source, now, marks))
        return outputs

    def route_commands(self, messages: Sequence[Message], now: datetime,
                       marks: BatchMarks) -> list[Output]:
        """The outputs of one partition's commands, in their order, decided as one batch
        (``ledger_core.decide_batch``)."""
        outputs: list[Output] = []
        admitted: list[_Admitted] = []
        for message in messages:
            answered, _applied = self._contained(
                message, now, partial(self._admit, message, now=now, marks=marks,
                                      admitted=admitted))
            outputs += answered
        if admitted:
            outputs += self._decide(admitted, now)
        return outputs

    # Containment -----------------------------------------------------------------------

    def _contained(self, message: Message, now: datetime,
                   handle: Callable[[Source], list[Output]]) -> tuple[list[Output], bool]:
        """``handle``'s outputs for the record, and True; or, when it fails or its records
        are too large, the record's one answer with its staged writes taken back, and
        False."""
        source = Source(message.topic() or "", message.partition() or 0,
                        message.offset() or 0)
        savepoint = self._savepoint()
        try:
            outputs = handle(source)
            oversized = self._oversized(outputs)
            if oversized is None:
                return outputs, True
            self._rollback(savepoint)
            return self._refusal(message, source, now, RejectionCode.RECORD_TOO_LARGE,
                                 oversized), False
        except (LedgerError, KafkaException):
            raise
        except Exception as exc:  # hostile input the rules missed, or a defect
            self._rollback(savepoint)
            log.exception("%s[%d]@%d: contained %s", source.topic, source.partition,
                          source.offset, type(exc).__name__, extra=_where(source))
            return self._refusal(message, source, now, RejectionCode.PROCESSING_FAILED,
                                 f"the ledger failed on this record ({type(exc).__name__}: "
                                 f"{exc}); it was not applied"), False

    def _savepoint(self) -> tuple[dict[int, int], int]:
        return ({p: task.savepoint() for p, task in self.tasks.items()},
                self.desk.savepoint())

    def _rollback(self, savepoint: tuple[dict[int, int], int]) -> None:
        marks, desk_mark = savepoint
        for partition, mark in marks.items():
            self.tasks[partition].rollback(mark)
        self.desk.rollback(desk_mark)

    def _oversized(self, outputs: list[Output]) -> str | None:
        for output in outputs:
            size = len(output.key) + len(output.value) + RECORD_OVERHEAD_BYTES
            limit = self.record_bytes_max[output.topic]
            if size > limit:
                return (f"a {output.topic} record of {size} bytes would be written, more than "
                        f"the {limit} the topic accepts (max.message.bytes)")
        return None

    def _refusal(self, message: Message, source: Source, now: datetime, code: RejectionCode,
                 text: str) -> list[Output]:
        """The one answer to a record that could not be applied."""
        self.counts[code.value] += 1
        answer = None
        if source.topic in (self.topics.commands, self.topics.catalog_commands):
            answer = self._rejection(message, source, now, code, text)
        if answer is None:
            answer = dead_letter(self.topics, source, message.key(), message.value(), text, now,
                                 code)
        if self._oversized([answer]) is not None:
            # The raw bytes themselves are too large to quote: keep where they are.
            answer = dead_letter(self.topics, source, message.key(), None,
                                 f"{text} (the value is not copied: see the source record)",
                                 now, code)
        return [answer]

    def _rejection(self, message: Message, source: Source, now: datetime,
                   code: RejectionCode, text: str) -> Output | None:
        catalog = source.topic == self.topics.catalog_commands
        try:
            record = codec().decode("catalog_command" if catalog else "command",
                                    message.value())
        except DecodeError:
            return None
        rejection = Rejection(code=code, message=text)
        if catalog:
            key = command_key(record["command_id"])
            return Output(self.topics.results, partition_for_key(key, self.topics.partitions),
                          key, result_record(record["command_id"], "REJECTED", source, now,
                                             rejection=rejection))
        transaction_id = _uuid(record.get("transaction_id"))
        return rejected_output(self.topics, source.partition, record["command_id"],
                               Rejected.of(transaction_id, rejection), source, now)

    # Handlers --------------------------------------------------------------------------

    def _admit(self, message: Message, source: Source, *, now: datetime, marks: BatchMarks,
               admitted: list[_Admitted]) -> list[Output]:
        """Decode a command and claim its id; an admitted command joins ``admitted`` to be
        decided with the others, any other gets its answer here."""
        task = self.tasks[source.partition]
        # A command after the one a stopped partition waits at is read again once the
        # registry answers: it gets no answer now (it would get a second one then), its id
        # is only asked for ahead.
        blocked = source.partition in marks.blocked
        try:
            record = codec().decode("command", message.value())
        except DecodeError as exc:
            return [] if blocked else [dead_letter(self.topics, source, message.key(),
                                                   message.value(), str(exc), now)]
        command_id = record["command_id"]
        command = mapping.command_from(record)
        if blocked:
            return [] if isinstance(command, Rejected) else self._ask_ahead(task, command,
                                                                            command_id)
        if isinstance(command, Rejected):
            return [rejected_output(self.topics, source.partition, command_id, command,
                                    source, now)]
        outputs: list[Output] = []
        if task.posted(command.transaction_id) is None:
            claim = self.registry.claim(command.transaction_id, task.partition, command_id,
                                        now)
            if claim.holder is None:
                marks.blocked[source.partition] = (command.transaction_id, source.offset)
                return self.registry.ask(command.transaction_id, task.partition, command_id)
            if claim.holder != task.partition:
                return [rejected_output(self.topics, source.partition, command_id,
                                        _held_elsewhere(command.transaction_id, claim.holder),
                                        source, now)]
            # The binding stands whatever the command's decision: its record goes out now.
            outputs.extend(claim.outputs)
        self.registry.decided(command.transaction_id)
        admitted.append(_Admitted(message, source, command_id, command))
        return outputs

    def _decide(self, admitted: list[_Admitted], now: datetime) -> list[Output]:
        """Decide the admitted commands as one batch and write each decision; a decision
        that cannot be written (too large, or a failure) is answered alone, and the ones
        after it, which assumed it, are decided again without it."""
        task = self.tasks[admitted[0].source.partition]
        outputs: list[Output] = []
        start = 0
        while start < len(admitted):
            pending = admitted[start:]
            try:
                decisions = self._decisions(task, [item.command for item in pending], now)
            except (LedgerError, KafkaException):
                raise
            except Exception:
                # One of them trips a defect: decide each alone, each contained.
                log.exception("deciding a batch of %d commands failed; deciding them one at "
                              "a time", len(pending))
                for item in pending:
                    answered, _applied = self._contained(
                        item.message, now, partial(self._decide_alone, task, item, now))
                    outputs += answered
                return outputs
            start = len(admitted)
            for index, (item, decision) in enumerate(zip(pending, decisions, strict=True)):
                written, applied = self._contained(
                    item.message, now, partial(self._write, task, item, decision, now))
                outputs += written
                if not applied:
                    start = len(admitted) - len(pending) + index + 1
                    break
        return outputs

    def _decisions(self, task: PartitionTask, commands: list[Command],
                   now: datetime) -> list[Decision]:
        decisions = decide_batch(task, commands, now)
        # An entity created just before its command was sent: read the catalog to its end,
        # and decide again if that brought anything.
        if any(isinstance(d, Rejected) and d.code in _CATALOG_MISSES for d in decisions) \
                and self.catalog.catch_up():
            decisions = decide_batch(task, commands, now)
        return decisions

    def _decide_alone(self, task: PartitionTask, item: _Admitted, now: datetime,
                      source: Source) -> list[Output]:
        [decision] = self._decisions(task, [item.command], now)
        return self._write(task, item, decision, now, source)

    def _write(self, task: PartitionTask, item: _Admitted, decision: Decision,
               now: datetime, source: Source) -> list[Output]:
        if isinstance(decision, Posted):
            return posted_outputs(self.topics, task, item.command_id, decision, item.source,
                                  now)
        return [rejected_output(self.topics, item.source.partition, item.command_id,
                                decision, item.source, now)]

    def _ask_ahead(self, task: PartitionTask, command: Command,
                   command_id: str) -> list[Output]:
        transaction_id = command.transaction_id
        if task.posted(transaction_id) is not None or \
                self.registry.registry_partition(transaction_id) in self.tasks or \
                self.registry.answered(transaction_id):
            return []
        return self.registry.ask(transaction_id, task.partition, command_id)

    def _leg(self, message: Message, source: Source, now: datetime,
             marks: BatchMarks) -> list[Output]:
        task = self.tasks[source.partition]
        try:
            entry = mapping.entry_from(codec().decode("entry", message.value()))
        except DecodeError as exc:
            return self._quarantine(message, source, now, RejectionCode.RECORD_NOT_DECODABLE,
                                    str(exc))
        except ValueError as exc:
            return self._quarantine(message, source, now, RejectionCode.RECORD_NOT_VALID,
                                    f"not an entry: {exc}")
        sets = [s for s in entry.parent_account_ids if task.owns(s)]
        account_owned = task.owns(entry.account_id)
        if not account_owned and not sets:
            return self._quarantine(message, source, now, RejectionCode.LEG_ACCOUNT_NOT_OWNED,
                                    f"the leg names account {entry.account_id} and no account "
                                    f"set that partition {source.partition} owns")
        missing = self._missing(task, entry.account_id if account_owned else None, sets)
        if missing is not None:
            self.catalog.catch_up()
            missing = self._missing(task, entry.account_id if account_owned else None, sets)
            if missing is not None:
                return self._quarantine(message, source, now,
                                        RejectionCode.LEG_ACCOUNT_NOT_FOUND,
                                        f"the leg names {missing}, which the catalog does "
                                        "not hold")
        outputs = []
        for balance in apply_remote_entries(task, [entry]):
            key, value = task.stage_balance(balance)
            outputs.append(Output(self.topics.balances, source.partition, key, value, True))
        return outputs

    @staticmethod
    def _missing(task: PartitionTask, account_id: UUID | None,
                 set_ids: list[UUID]) -> str | None:
        """What a leg folds onto that the catalog does not hold, or None."""
        if account_id is not None and task.account(account_id) is None:
            return f"account {account_id}"
        for set_id in set_ids:
            if task.account_set(set_id) is None:
                return f"account set {set_id}"
        return None

    def _catalog_command(self, message: Message, source: Source, now: datetime,
                         marks: BatchMarks) -> list[Output]:
        return self.desk.handle(message, source, now)

    def _id_claim(self, message: Message, source: Source, now: datetime,
                  marks: BatchMarks) -> list[Output]:
        try:
            record = codec().decode("id_claim", message.value())
        except DecodeError as exc:
            return self._quarantine(message, source, now, RejectionCode.RECORD_NOT_DECODABLE,
                                    str(exc))
        problem = _claim_problem(record, self.topics.partitions)
        if problem is not None:
            return self._quarantine(message, source, now, RejectionCode.RECORD_NOT_VALID,
                                    problem)
        return self.registry.handle(record, source.partition, now)

    def _quarantine(self, message: Message, source: Source, now: datetime,
                    code: RejectionCode, error: str) -> list[Output]:
        self.counts[code.value] += 1
        log.warning("%s[%d]@%d quarantined (%s): %s", source.topic, source.partition,
                    source.offset, code.value, error, extra={**_where(source), "code": code.value})
        return [dead_letter(self.topics, source, message.key(), message.value(), error, now,
                            code)]


def _where(source: Source) -> dict[str, Any]:
    """A record's position, as structured log fields."""
    return {"topic": source.topic, "partition": source.partition, "offset": source.offset}


def _claim_problem(record: dict[str, Any], partitions: int) -> str | None:
    if _uuid(record["transaction_id"]) is None:
        return f"transaction_id {record['transaction_id']!r} is not a UUID"
    for name in ("claimant", "holder"):
        value = record[name]
        if value is not None and not 0 <= value < partitions:
            return f"{name} {value} is not a partition of the {partitions}"
    return None


def _held_elsewhere(transaction_id: UUID, holder: int) -> Rejected:
    return Rejected(
        transaction_id=transaction_id, code=RejectionCode.TRANSACTION_ID_DUPLICATE,
        message=f"transactionId {transaction_id} was already used by another command "
                f"(decided on partition {holder}); a transaction id posts at most once",
        field="transactionId", value=str(transaction_id))


def _uuid(text: object) -> UUID | None:
    try:
        return UUID(str(text)) if text is not None else None
    except ValueError:
        return None
