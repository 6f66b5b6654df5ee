"""The Kafka shell of ODFI file generation: one generator at a time, and any run that stops
half way is finished by the next.

A run first takes the generator's transactional id (``<prefix>.ach-file-generator``):
``init_transactions`` fences any other run still going and settles its open transaction,
so everything read next is all that earlier runs committed. Then:

- a generated file still PROCESSING (a run stopped before every trace number was answered)
  is finished: its recorded entries are written again into the same text, their trace
  commands sent again, their results awaited, and the file recorded COMPLETED;
- otherwise a new file is planned from the queued executions and, in one transaction, its
  record (PROCESSING), its entries and one ``TraceCommand`` per entry are written; then the
  results are awaited and the file recorded COMPLETED with each entry's outcome.

A kill at any instant leaves either nothing (the first transaction did not commit: the
executions are still queued) or a PROCESSING file whose entries, trace numbers and text are
fixed, so no trace number is ever given twice and no entry goes into two files.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID, uuid4, uuid5

from confluent_kafka import KafkaError, KafkaException, Producer

from connectors.ach.client import AchClient
from connectors.ach.configuration_lookup import configuration_version
from connectors.ach.executions import read_executions
from connectors.ach.file_entries import (
    FileEntryStatus,
    OdfiFileEntry,
    file_entry_key,
    file_partition,
    read_file_entries,
)
from connectors.ach.file_generation import (
    AchFileError,
    AchFileErrorCode,
    Held,
    build_file,
    file_name,
    highest_sequence,
    local_created,
    modifier_of,
    next_modifier,
    plan_file,
    queued,
    statistics,
)
from connectors.ach.files import (
    AchFileRecord,
    AchFileStatus,
    AchFileType,
    file_key,
    read_files,
)
from connectors.ach.records import ResultStatus, TraceCommand, WorkflowResult, encode
from connectors.ach.topics import AchTopics, execution_key
from ledger_core.ach_workflows import AchRefusalCode
from nacha import generate
from streams.checkpoint import CALL_TIMEOUT_S, retrying
from streams.errors import CommandTimeoutError, LedgerError
from streams.kafka_config import kafka_config

RESULT_TIMEOUT_S = 60.0
# A trace refused only because the execution waits on the ledger for another task is sent
# again after this pause, until the results' deadline.
RETRY_PAUSE_S = 0.2
_TRANSIENT = {AchRefusalCode.ACH_TASK_PENDING}

Message = tuple[str, bytes, bytes, int]


@dataclass(frozen=True)
class Generation:
    """What a run did: the file it finished or generated (None: nothing was queued), its
    entries and NACHA text, whether it finished a file an earlier run left PROCESSING, and
    the queued executions no file can take as they stand."""

    record: AchFileRecord | None
    entries: tuple[OdfiFileEntry, ...] = ()
    text: str = ""
    resumed: bool = False
    held: tuple[Held, ...] = ()
    deferred: int = 0


def generator_transactional_id(topics: AchTopics) -> str:
    """One per ledger: a second generator fences the first."""
    return f"{topics.prefix}.ach-file-generator"


def generate_file(bootstrap: str, prefix: str, config_id: UUID, *,
                  max_entries: int | None = None, timeout_s: float = RESULT_TIMEOUT_S,
                  now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> Generation:
    """Finish the file an earlier run left PROCESSING, else generate the next file of the
    configuration ``config_id``; wait for every trace number's result."""
    # Watching the results from before anything is sent, so no answer is missed.
    ach = AchClient(bootstrap, prefix)
    try:
        run = _Run(bootstrap, ach, now, timeout_s)
        files = {file_id: record for file_id, record in read_files(bootstrap, ach.topics).items()
                 if record.file_type is AchFileType.ODFI}
        unfinished = sorted((r for r in files.values() if r.status is AchFileStatus.PROCESSING),
                            key=lambda r: (r.created_at, str(r.file_id)))
        if unfinished:
            return run.finish(unfinished[0])
        return run.new_file(files, config_id, max_entries)
    finally:
        ach.close()


def written_text(bootstrap: str, prefix: str, file_id: UUID) -> tuple[AchFileRecord, str]:
    """A COMPLETED generated file's record and its NACHA text, written again from its
    records."""
    ach = AchClient(bootstrap, prefix)
    try:
        record = read_files(bootstrap, ach.topics).get(file_id)
        if record is None or record.file_type is not AchFileType.ODFI:
            raise AchFileError(AchFileErrorCode.ACH_FILE_NOT_FOUND,
                               f"no generated file has id {file_id}")
        if record.status is not AchFileStatus.COMPLETED:
            raise AchFileError(AchFileErrorCode.ACH_FILE_NOT_COMPLETED,
                               f"file {file_id} is {record.status}: `ledger ach file generate` "
                               "finishes it")
        entries = read_file_entries(bootstrap, ach.topics, [file_id])[file_id]
        return record, _text(bootstrap, ach.topics, record, entries)
    finally:
        ach.close()


def _text(bootstrap: str, topics: AchTopics, record: AchFileRecord,
          entries: Sequence[OdfiFileEntry]) -> str:
    configuration = configuration_version(bootstrap, topics, record.config_id,
                                          record.config_version)
    return generate(build_file(entries, configuration, record.created_at,
                               modifier_of(record.name)))


class _Run:
    """One run's producer and result watcher."""

    def __init__(self, bootstrap: str, ach: AchClient, now: Callable[[], datetime],
                 timeout_s: float) -> None:
        self.bootstrap = bootstrap
        self.ach = ach
        self.topics = ach.topics
        self.now = now
        self.timeout_s = timeout_s
        self.producer = Producer(kafka_config(bootstrap, {
            "transactional.id": generator_transactional_id(self.topics),
            "transaction.timeout.ms": 60_000, "linger.ms": 5}))
        try:
            self.producer.init_transactions(CALL_TIMEOUT_S)
        except KafkaException as exc:
            raise LedgerError(f"Kafka refused init_transactions: {exc.args[0]}") from exc

    def new_file(self, files: dict[UUID, AchFileRecord], config_id: UUID,
                 max_entries: int | None) -> Generation:
        configuration = configuration_version(self.bootstrap, self.topics, config_id)
        executions = read_executions(self.bootstrap, self.topics)
        recorded = [entry for entries in
                    read_file_entries(self.bootstrap, self.topics, files).values()
                    for entry in entries]
        waiting = queued(executions.values(), config_id,
                         {entry.execution_id for entry in recorded})
        used = [entry.trace_number for entry in recorded] + \
            [e.trace_number for e in executions.values() if e.trace_number is not None]
        file_id, created = uuid4(), self.now()
        plan = plan_file(waiting, file_id=file_id, configuration=configuration,
                         first_sequence=highest_sequence(used) + 1, max_entries=max_entries)
        if not plan.entries:
            return Generation(None, held=plan.held, deferred=plan.deferred)
        day = local_created(created, configuration).date()
        modifier = next_modifier(day, (record.name for record in files.values()))
        # Written before anything is recorded: a file that cannot be written is never begun.
        text = generate(build_file(plan.entries, configuration, created, modifier))
        record = AchFileRecord(file_id=file_id, file_type=AchFileType.ODFI,
                               name=file_name(day, modifier), config_id=config_id,
                               config_version=configuration.version,
                               status=AchFileStatus.PROCESSING,
                               statistics=statistics(plan.entries), created_at=created,
                               updated_at=created)
        commands = self._trace_commands(plan.entries, attempt=0)
        self._commit([self._file_message(record),
                      *(self._entry_message(entry) for entry in plan.entries),
                      *(message for _entry, _command_id, message in commands)])
        done = self._await_traces(plan.entries, commands)
        return Generation(self._complete(record, done), done, text, held=plan.held,
                          deferred=plan.deferred)

    def finish(self, record: AchFileRecord) -> Generation:
        entries = read_file_entries(self.bootstrap, self.topics, [record.file_id])[
            record.file_id]
        text = _text(self.bootstrap, self.topics, record, entries)
        # Sent again whatever their recorded status: the processor answers a trace number
        # the execution already keeps as REPEATED.
        commands = self._trace_commands(entries, attempt=0)
        self._commit([message for _entry, _command_id, message in commands])
        done = self._await_traces(entries, commands)
        return Generation(self._complete(record, done), done, text, resumed=True)

    def _complete(self, record: AchFileRecord, entries: Sequence[OdfiFileEntry]
                  ) -> AchFileRecord:
        completed = record.model_copy(update={"status": AchFileStatus.COMPLETED,
                                              "statistics": statistics(entries),
                                              "updated_at": self.now()})
        self._commit([*(self._entry_message(entry) for entry in entries),
                      self._file_message(completed)])
        return completed

    # Trace numbers ----------------------------------------------------------------------

    def _trace_commands(self, entries: Iterable[OdfiFileEntry], attempt: int
                        ) -> list[tuple[OdfiFileEntry, str, Message]]:
        """Each entry's trace command; its id is the same for the same attempt, so a run
        that finishes a file sends what the stopped run sent."""
        sent_at = self.now()
        commands = []
        for entry in entries:
            command = TraceCommand(
                command_id=str(uuid5(entry.file_id, f"{entry.trace_number}/{attempt}")),
                execution_id=entry.execution_id, trace_number=entry.trace_number,
                file_id=entry.file_id, sent_at=sent_at)
            commands.append((entry, command.command_id,
                             (self.topics.commands, execution_key(entry.execution_id),
                              encode(command), self.topics.partition(entry.execution_id))))
        return commands

    def _await_traces(self, entries: Sequence[OdfiFileEntry],
                      commands: list[tuple[OdfiFileEntry, str, Message]]
                      ) -> tuple[OdfiFileEntry, ...]:
        """Every entry with its trace number's outcome; refusals that only mean "wait" are
        sent again, until the deadline."""
        deadline = time.monotonic() + self.timeout_s
        outcomes: dict[str, OdfiFileEntry] = {}
        attempt = 0
        while commands:
            try:
                results = self.ach.wait([command_id for _e, command_id, _m in commands],
                                        max(deadline - time.monotonic(), 0.1))
            except CommandTimeoutError as exc:
                raise CommandTimeoutError(
                    f"file {entries[0].file_id}: {exc}; the file stays PROCESSING and the next "
                    "`ledger ach file generate` finishes it") from None
            retry = []
            for entry, command_id, _message in commands:
                result = results[command_id]
                if result.code in _TRANSIENT:
                    retry.append(entry)
                else:
                    outcomes[entry.trace_number] = _outcome(entry, result)
            if retry and time.monotonic() >= deadline:
                raise CommandTimeoutError(
                    f"file {entries[0].file_id}: {len(retry)} execution(s) still wait on the "
                    "ledger for another task; the file stays PROCESSING and the next "
                    "`ledger ach file generate` finishes it")
            attempt += 1
            commands = self._trace_commands(retry, attempt) if retry else []
            if commands:
                time.sleep(RETRY_PAUSE_S)
                self._commit([message for _entry, _command_id, message in commands])
        return tuple(outcomes[entry.trace_number] for entry in entries)

    # Kafka ------------------------------------------------------------------------------

    def _file_message(self, record: AchFileRecord) -> Message:
        return (self.topics.files, file_key(record.file_id), encode(record),
                file_partition(record.file_id, self.topics.partitions))

    def _entry_message(self, entry: OdfiFileEntry) -> Message:
        return (self.topics.file_entries, file_entry_key(entry.file_id, entry.trace_number),
                encode(entry), file_partition(entry.file_id, self.topics.partitions))

    def _commit(self, messages: Iterable[Message]) -> None:
        """Write ``messages`` in one transaction: all of them or none."""
        try:
            self.producer.begin_transaction()
            for topic, key, value, partition in messages:
                self._produce(topic, key, value, partition)
            retrying(lambda: self.producer.commit_transaction(CALL_TIMEOUT_S))
        except KafkaException as exc:
            error: KafkaError = exc.args[0]
            if error.fatal() or error.code() == KafkaError._FENCED:
                raise AchFileError(AchFileErrorCode.ACH_GENERATOR_FENCED,
                                   "another `ledger ach file generate` started and took over; "
                                   "it finishes what this one began") from None
            self._abort()
            raise LedgerError(f"Kafka refused the transaction ({error}); nothing of it was "
                              "recorded: run again") from exc

    def _produce(self, topic: str, key: bytes, value: bytes, partition: int) -> None:
        while True:
            try:
                self.producer.produce(topic, value, key, partition=partition)
                return
            except BufferError:
                self.producer.poll(0.05)

    def _abort(self) -> None:
        # If even the abort fails, the transaction times out on the broker; the next run
        # fences it.
        with contextlib.suppress(KafkaException):
            self.producer.abort_transaction(CALL_TIMEOUT_S)


def _outcome(entry: OdfiFileEntry, result: WorkflowResult) -> OdfiFileEntry:
    if result.status is ResultStatus.REFUSED:
        return entry.model_copy(update={"status": FileEntryStatus.REFUSED,
                                        "refusal_code": result.code,
                                        "refusal_message": result.message})
    return entry.model_copy(update={"status": FileEntryStatus.TRACED, "refusal_code": None,
                                    "refusal_message": None})
