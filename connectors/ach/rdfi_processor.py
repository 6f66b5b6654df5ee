"""Processing a received NACHA file: forward entries through the decisioning webhook to the
ledger, returns to their executions' RETURN task, NOCs to the notifications topic.

The file's record on ``ach-files`` moves NEW -> VALIDATING -> PROCESSING -> COMPLETED, or
FAILED when strict validation refuses it (nothing posts). A file stays PROCESSING while an
entry waits for its effective date, or the ledger refused a posting that cannot be
rerouted; running it again goes on from where it stands.

Nothing lost, nothing doubled, whatever instant the process dies at:

- every decision is written (``DECIDED``) in the same Kafka transaction as the posting
  command it sends, so a command is never sent without its decision, nor a decision kept
  without its command;
- the transactional id is the file's, so a second run of the same file fences the first:
  the first can commit nothing more, and the second reads everything it committed;
- a run finds each entry's decision and sends its command again (fresh command id, same
  transaction id): the ledger posts it or answers ``transaction_id_duplicate``, which is
  as good as posted. Only entries with no decision are sent to the webhook;
- a posting the ledger refuses is rerouted (suspense for an unknown account, exception
  otherwise) by a new decision, written with its own command: the refused command never
  posted, and no later run sends it again.

Entries move in parallel: up to ``concurrency`` webhook calls at a time, and the posting
commands of every decision made meanwhile sent in one transaction, without waiting for the
ledger's answers (at most ``IN_FLIGHT_MAX`` unanswered).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
import weakref
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import aiohttp
from confluent_kafka import KafkaException, Producer
from confluent_kafka.admin import AdminClient
from pydantic import Field

from connectors.ach.client import AchClient
from connectors.ach.decisioning import Decisioning, request_body
from connectors.ach.files import (
    AchFileRecord,
    AchFileStatus,
    AchFileType,
    FileStatistics,
    file_key,
    read_files,
)
from connectors.ach.notifications import Notification, notification_key, notification_partition
from connectors.ach.rdfi_entries import (
    EntryStage,
    RdfiFileEntry,
    rdfi_entry_key,
    rdfi_file_partition,
    read_rdfi_entries,
)
from connectors.ach.received import ReceivedFile, ReceivedItem, RejectedFile, read_received
from connectors.ach.records import AchTrace, ResultStatus, WorkflowResult, encode
from connectors.ach.topics import AchTopics
from connectors.ach.traces import read_traces
from ledger_core.ach_rdfi import (
    EntryKind,
    Outcome,
    RdfiDecision,
    Reason,
    decide_answer,
    decide_return,
    entry_execution_id,
    posting_for,
    posts_to_customer,
    reroute,
    settle_encumbered,
)
from ledger_core.ach_tran_codes import AchConfiguration
from ledger_core.ach_workflows import AchRefusalCode, Task
from ledger_core.base import LedgerModel
from ledger_core.rejections import RejectionCode
from streams.checkpoint import guarded, retrying
from streams.client import LedgerClient, Result, command_message
from streams.errors import CommandTimeoutError, LedgerError
from streams.kafka_config import kafka_config
from streams.topics import Topics, ensure_specs, topic_partitions

log = logging.getLogger(__name__)

CALL_TIMEOUT_S = 30.0
# Posting commands sent and not yet answered, at most: the ledger's backlog stays bounded.
IN_FLIGHT_MAX = 20_000


class FileRefusalCode(StrEnum):
    """Why a file was refused before anything was written for it."""

    # Another file's entries were recorded under this file's header identity.
    ACH_FILE_IDENTITY_CONFLICT = "ach_file_identity_conflict"
    # The webhook has no URL or no signing secret.
    ACH_DECISIONING_NOT_CONFIGURED = "ach_decisioning_not_configured"


class FileRefusedError(LedgerError):
    """A file refused with a code and a message; nothing was written for it."""

    def __init__(self, code: FileRefusalCode, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True)
class RdfiSettings:
    """How to process files: the ledger, the configuration, the webhook and its secret."""

    bootstrap: str
    prefix: str
    configuration: AchConfiguration
    webhook_key: bytes | None
    concurrency: int = 64
    # The day entries settle against (default: today in the configuration's time zone).
    today: date | None = None
    # How long a run waits for the ledger's answers before it stops, leaving the rest to
    # the next run.
    answer_timeout_s: float = 120.0


class Unresolved(LedgerModel):
    """An entry this run could not finish, and the code why."""

    trace_number: str
    code: str


class RunReport(LedgerModel):
    """What one run of a file did, and where the file stands."""

    file_id: UUID
    name: str
    file_type: AchFileType | None
    status: AchFileStatus
    statistics: FileStatistics
    error: str | None = None
    outcomes: dict[str, int] = Field(default_factory=dict)
    # Entries whose posting the ledger posted in this run.
    posted: int = 0
    # Entries found done by an earlier run, or whose posting was a transaction_id_duplicate.
    already_done: int = 0
    unmatched_returns: tuple[str, ...] = ()
    unresolved: tuple[Unresolved, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """A JSON-able view."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


# One lock per file in this process: the upload endpoint serialises a file's runs instead
# of letting the second fence the first.
_FILE_LOCKS: weakref.WeakValueDictionary[UUID, asyncio.Lock] = weakref.WeakValueDictionary()


async def process_file(content: bytes, name: str, settings: RdfiSettings) -> RunReport:
    """Validate and process one received file; return what this run did."""
    configuration = settings.configuration
    if configuration.decisioning_url is None or settings.webhook_key is None:
        raise FileRefusedError(FileRefusalCode.ACH_DECISIONING_NOT_CONFIGURED,
                               "the configuration names no decisioning URL, or no webhook "
                               "secret was given")
    received = read_received(content, configuration.config_id)
    lock = _FILE_LOCKS.setdefault(received.file_id, asyncio.Lock())
    async with lock:
        run = await asyncio.to_thread(_FileRun.open, settings, received.file_id)
        try:
            return await run.process(received, name)
        finally:
            await asyncio.to_thread(run.close)


@dataclass
class _Pending:
    item: ReceivedItem
    decision: RdfiDecision


@dataclass
class _Staged:
    """What the next transaction writes."""

    records: list[tuple[str, bytes, bytes, int]] = field(default_factory=list)
    postings: list[tuple[str, _Pending, bytes, bytes, int]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.records or self.postings)


class _FileRun:
    """One run of one file: its transactional producer, its clients and its progress."""

    def __init__(self, settings: RdfiSettings, file_id: UUID, topics: AchTopics,
                 producer: Producer, ledger: LedgerClient) -> None:
        self.settings = settings
        self.configuration = settings.configuration
        self.file_id = file_id
        self.topics = topics
        self.producer = producer
        self.ledger = ledger
        self.today = settings.today or datetime.now(
            ZoneInfo(self.configuration.time_zone)).date()
        self.entries: dict[str, RdfiFileEntry] = {}
        self.staged = _Staged()
        self.in_flight: dict[str, _Pending] = {}
        self.unresolved: dict[str, str] = {}
        self.posted = 0
        self.already_done = 0
        self.digest = ""
        self.delivery_error: Any = None

    @classmethod
    def open(cls, settings: RdfiSettings, file_id: UUID) -> _FileRun:
        """Create the ACH topics when missing, and fence any other run of the file."""
        admin = AdminClient(kafka_config(settings.bootstrap))
        ledger_topics = Topics(prefix=settings.prefix)
        ledger_partitions = topic_partitions(admin, ledger_topics.commands)
        if ledger_partitions is None:
            raise LedgerError(f"topic {ledger_topics.commands} does not exist: start a "
                              "processor (`ledger processor run`) first")
        partitions = topic_partitions(admin, AchTopics(settings.prefix).files)
        topics = AchTopics(settings.prefix, partitions or ledger_partitions)
        ensure_specs(admin, topics.specs())
        producer = Producer(kafka_config(settings.bootstrap, {
            "transactional.id": f"{settings.prefix}.ach-rdfi.{file_id}",
            "transaction.timeout.ms": 60_000, "linger.ms": 5}))
        try:
            guarded("init_transactions", producer.init_transactions, 60)
        except KafkaException as exc:
            raise LedgerError(f"Kafka refused init_transactions: {exc.args[0]}") from exc
        ledger = LedgerClient(settings.bootstrap,
                              Topics(prefix=settings.prefix, partitions=ledger_partitions))
        return cls(settings, file_id, topics, producer, ledger)

    def close(self) -> None:
        self.ledger.close()

    # The run ----------------------------------------------------------------------------

    async def process(self, received: ReceivedFile | RejectedFile, name: str) -> RunReport:
        self.digest = received.digest
        existing = (await asyncio.to_thread(read_files, self.settings.bootstrap, self.topics)
                    ).get(self.file_id)
        if existing is not None:
            self.entries = await asyncio.to_thread(read_rdfi_entries, self.settings.bootstrap,
                                                   self.topics, self.file_id)
        if any(entry.file_digest != received.digest for entry in self.entries.values()):
            raise FileRefusedError(FileRefusalCode.ACH_FILE_IDENTITY_CONFLICT,
                                   f"file {self.file_id} was processed with other content "
                                   "under the same header identity")
        created_at = existing.created_at if existing is not None else datetime.now(UTC)
        record = AchFileRecord(
            file_id=self.file_id, file_type=_file_type(received), name=name,
            config_id=self.configuration.config_id,
            config_version=self.configuration.version, status=AchFileStatus.NEW,
            statistics=_statistics(received), created_at=created_at, updated_at=created_at)
        if isinstance(received, RejectedFile):
            for status in (AchFileStatus.NEW, AchFileStatus.VALIDATING):
                await self._status(record, status)
            record = await self._status(record, AchFileStatus.FAILED, received.error)
            log.warning("ach file %s FAILED: %s", self.file_id, received.error)
            return self._report(record)
        if existing is not None and existing.status is AchFileStatus.COMPLETED \
                and not self._work(received):
            self.already_done = len(received.items)
            return self._report(existing, received)
        if existing is None:
            record = await self._status(record, AchFileStatus.NEW)
        record = await self._status(record, AchFileStatus.VALIDATING)
        record = await self._status(record, AchFileStatus.PROCESSING)
        await self._process_entries(received)
        statistics = self._progress(received, record.statistics)
        done = statistics.entries_unprocessed == 0
        record = await self._status(record.model_copy(update={"statistics": statistics}),
                                    AchFileStatus.COMPLETED if done
                                    else AchFileStatus.PROCESSING)
        log.info("ach file %s %s: %d posted, %d already done, %d unresolved", self.file_id,
                 record.status, self.posted, self.already_done, len(self.unresolved))
        return self._report(record, received)

    def _work(self, received: ReceivedFile) -> bool:
        """Whether any entry still has something to do."""
        return any(self._next(item) is not None for item in received.items)

    def _next(self, item: ReceivedItem) -> str | RdfiDecision | None:
        """What an entry needs: "decide" (no decision yet), a decision to post, or None."""
        recorded = self.entries.get(item.entry.trace_number)
        if recorded is None:
            return "decide"
        if recorded.stage is EntryStage.DECIDED:
            return recorded.decision
        return settle_encumbered(recorded.decision, item.entry.effective_date, self.today)

    async def _process_entries(self, received: ReceivedFile) -> None:
        to_decide: list[ReceivedItem] = []
        returns: list[ReceivedItem] = []
        for item in received.items:
            need = self._next(item)
            if need is None:
                self.already_done += 1
            elif isinstance(need, RdfiDecision):
                self._stage_decision(item, need)
            elif item.entry.kind is EntryKind.FORWARD:
                if item.entry.amount_cents == 0:
                    self._stage_done(item, RdfiDecision(outcome=Outcome.NONMONETARY))
                else:
                    to_decide.append(item)
            else:
                returns.append(item)
        if returns:
            await self._match_returns(returns)
        async with aiohttp.ClientSession() as session:
            decisioning = Decisioning(session, str(self.configuration.decisioning_url),
                                      self.settings.webhook_key or b"",
                                      self.configuration.decisioning_timeout_seconds)
            queue = iter(to_decide)
            workers = [asyncio.create_task(self._decide_all(queue, decisioning))
                       for _ in range(min(self.settings.concurrency, len(to_decide)))]
            try:
                await self._pump(workers)
            finally:
                for worker in workers:
                    worker.cancel()

    async def _decide_all(self, queue: Any, decisioning: Decisioning) -> None:
        for item in queue:
            while len(self.in_flight) > IN_FLIGHT_MAX:
                await asyncio.sleep(0.01)
            body = request_body(item, file_id=self.file_id,
                                config_id=self.configuration.config_id,
                                config_version=self.configuration.version)
            answer = await decisioning.decide(body)
            self._stage_decision(item, decide_answer(answer, item.entry, self.configuration,
                                                     self.today))

    async def _pump(self, workers: list[asyncio.Task[None]]) -> None:
        """Commit what is staged, collect the ledger's answers, until every entry is done
        or the answers stop coming."""
        last_answer = time.monotonic()
        while True:
            if self.staged:
                staged, self.staged = self.staged, _Staged()
                await asyncio.to_thread(self._commit, staged)
            if self.in_flight:
                results = await asyncio.to_thread(self.ledger.poll_results, 0.05)
                if results:
                    last_answer = time.monotonic()
                for result in results:
                    pending = self.in_flight.pop(result.command_id, None)
                    if pending is not None:
                        self._answered(pending, result)
            else:
                last_answer = time.monotonic()
                await asyncio.sleep(0.005)
            for worker in workers:
                if worker.done() and worker.exception() is not None:
                    raise worker.exception()  # type: ignore[misc]
            if all(w.done() for w in workers) and not self.in_flight and not self.staged:
                return
            if time.monotonic() - last_answer > self.settings.answer_timeout_s:
                for pending in self.in_flight.values():
                    self.unresolved[pending.item.entry.trace_number] = "ledger_no_answer"
                return

    # Staging ----------------------------------------------------------------------------

    def _stage_decision(self, item: ReceivedItem, decision: RdfiDecision,
                        matched: AchTrace | None = None) -> None:
        posting = posting_for(item.entry, decision, file_id=self.file_id,
                              configuration=self.configuration)
        if posting is None:
            self._stage_done(item, decision, matched=matched)
            return
        record = self._record(item, decision, EntryStage.DECIDED,
                              posting.command.transaction_id, matched)
        self._stage_entry(record)
        command_id = str(uuid.uuid4())
        key, value, partition = command_message(posting.command, posting.owner, command_id,
                                                self.ledger.partitions, datetime.now(UTC))
        self.staged.postings.append((command_id, _Pending(item, decision), key, value,
                                     partition))

    def _stage_done(self, item: ReceivedItem, decision: RdfiDecision,
                    transaction_id: UUID | None = None,
                    matched: AchTrace | None = None) -> None:
        self._stage_entry(self._record(item, decision, EntryStage.DONE, transaction_id,
                                       matched))

    def _stage_entry(self, record: RdfiFileEntry) -> None:
        self.entries[record.trace_number] = record
        self.staged.records.append((self.topics.file_entries,
                                    rdfi_entry_key(self.file_id, record.trace_number),
                                    encode(record),
                                    rdfi_file_partition(self.file_id, self.topics.partitions)))

    def _record(self, item: ReceivedItem, decision: RdfiDecision, stage: EntryStage,
                transaction_id: UUID | None, matched: AchTrace | None = None) -> RdfiFileEntry:
        entry = item.entry
        earlier = self.entries.get(entry.trace_number)
        return RdfiFileEntry(
            file_id=self.file_id, trace_number=entry.trace_number, file_digest=self.digest,
            kind=entry.kind, transaction_code=entry.transaction_code,
            amount_cents=entry.amount_cents, effective_date=entry.effective_date,
            execution_id=entry_execution_id(self.file_id, entry.trace_number),
            decision=decision, stage=stage, transaction_id=transaction_id,
            original_trace_number=item.original_trace_number,
            matched_execution_id=(matched.execution_id if matched is not None
                                  else earlier.matched_execution_id if earlier else None))

    def _commit(self, staged: _Staged) -> None:
        """One Kafka transaction: the entries' records and their posting commands."""
        self.delivery_error = None
        try:
            self.producer.begin_transaction()
            for topic, key, value, partition in staged.records:
                self._produce(topic, key, value, partition)
            for _command_id, _pending, key, value, partition in staged.postings:
                self._produce(self.ledger.topics.commands, key, value, partition)
            self.producer.flush(CALL_TIMEOUT_S)
            if self.delivery_error is not None:
                raise KafkaException(self.delivery_error)
            retrying(lambda: guarded("commit_transaction", self.producer.commit_transaction,
                                     CALL_TIMEOUT_S))
        except KafkaException as exc:
            # Fenced by another run of the file, or Kafka failed: nothing of this
            # transaction counts, and the next run takes the file from what was committed.
            raise LedgerError(f"the file's transaction failed, nothing of it was kept: "
                              f"{exc.args[0]}") from exc
        for command_id, pending, *_ in staged.postings:
            self.in_flight[command_id] = pending

    def _produce(self, topic: str, key: bytes, value: bytes, partition: int) -> None:
        def delivered(error: Any, _message: Any) -> None:
            if error is not None:
                self.delivery_error = error

        while True:
            try:
                self.producer.produce(topic, value, key, partition=partition,
                                      on_delivery=delivered)
                return
            except BufferError:
                self.producer.poll(0.05)

    async def _status(self, record: AchFileRecord, status: AchFileStatus,
                      error: str | None = None) -> AchFileRecord:
        updated = record.model_copy(update={"status": status, "error": error,
                                            "updated_at": datetime.now(UTC)})
        staged = _Staged(records=[(self.topics.files, file_key(self.file_id), encode(updated),
                                   rdfi_file_partition(self.file_id, self.topics.partitions))])
        await asyncio.to_thread(self._commit, staged)
        return updated

    # Answers ----------------------------------------------------------------------------

    def _answered(self, pending: _Pending, result: Result) -> None:
        item, decision = pending.item, pending.decision
        duplicate = result.code == RejectionCode.TRANSACTION_ID_DUPLICATE
        if result.ok or duplicate:
            if duplicate:
                self.already_done += 1
            else:
                self.posted += 1
            transaction_id = UUID(result.transaction_id) if result.transaction_id else None
            self._stage_done(item, decision, transaction_id)
        elif posts_to_customer(decision):
            self._stage_decision(item, reroute(decision, result.code or ""))
        else:
            # A house account refused: the entry keeps its decision for the next run.
            log.error("ach file %s: the ledger refused entry %s's %s posting: %s",
                      self.file_id, item.entry.trace_number, decision.outcome, result.code)
            self.unresolved[item.entry.trace_number] = result.code or "rejected"

    async def _match_returns(self, items: list[ReceivedItem]) -> None:
        """Run RETURN for each return whose original trace number the index knows; send the
        others to suspense; record each NOC."""
        traces = await asyncio.to_thread(read_traces, self.settings.bootstrap, self.topics)
        sent: dict[str, tuple[ReceivedItem, AchTrace]] = {}
        client: AchClient | None = None
        try:
            for item in items:
                trace = traces.get(item.original_trace_number or "")
                if item.entry.kind is EntryKind.NOC:
                    self._stage_notification(item, trace)
                elif trace is None:
                    self._stage_decision(item, decide_return(matched=False))
                else:
                    if client is None:
                        client = await asyncio.to_thread(AchClient, self.settings.bootstrap,
                                                         self.settings.prefix)
                    command_id = client.send(trace.execution_id, trace.workflow, Task.RETURN,
                                             {"returnCode": item.reason_code})
                    sent[command_id] = (item, trace)
            if client is not None:
                results = await asyncio.to_thread(self._wait_returns, client, list(sent))
                for command_id, (item, trace) in sent.items():
                    self._returned(item, trace, results.get(command_id))
        finally:
            if client is not None:
                await asyncio.to_thread(client.close)

    def _wait_returns(self, client: AchClient,
                      command_ids: list[str]) -> dict[str, WorkflowResult]:
        try:
            return client.wait(command_ids, self.settings.answer_timeout_s)
        except CommandTimeoutError:
            return {}

    def _returned(self, item: ReceivedItem, trace: AchTrace,
                  result: WorkflowResult | None) -> None:
        trace_number = item.entry.trace_number
        if result is None:
            self.unresolved[trace_number] = "workflow_no_answer"
        elif result.status in {ResultStatus.ACCEPTED, ResultStatus.REPEATED}:
            if result.status is ResultStatus.ACCEPTED:
                self.posted += 1
            else:
                self.already_done += 1
            self._stage_done(item, decide_return(matched=True), matched=trace)
        elif result.code is AchRefusalCode.ACH_TASK_PENDING:
            self.unresolved[trace_number] = str(result.code)
        else:
            self._stage_decision(item, decide_return(True, str(result.code)), trace)

    def _stage_notification(self, item: ReceivedItem, trace: AchTrace | None) -> None:
        addenda = item.addenda
        assert addenda is not None and item.original_trace_number is not None
        notification = Notification(
            original_trace_number=item.original_trace_number,
            change_code=item.reason_code or "", corrected_data=addenda["corrected_data"],
            original_receiving_dfi=addenda["original_receiving_dfi_identification"],
            file_id=self.file_id, trace_number=item.entry.trace_number,
            execution_id=trace.execution_id if trace is not None else None,
            workflow=trace.workflow if trace is not None else None)
        self.staged.records.append((
            self.topics.notifications, notification_key(item.original_trace_number),
            encode(notification), notification_partition(item.original_trace_number,
                                                         self.topics)))
        self._stage_done(item, RdfiDecision(outcome=Outcome.NOTIFIED), matched=trace)

    # Reporting --------------------------------------------------------------------------

    def _progress(self, received: ReceivedFile, statistics: FileStatistics) -> FileStatistics:
        waiting = sum(1 for item in received.items
                      if (entry := self.entries.get(item.entry.trace_number)) is None
                      or entry.stage is EntryStage.DECIDED
                      or entry.decision.outcome is Outcome.ENCUMBERED)
        return statistics.model_copy(update={"entries_unprocessed": waiting})

    def _report(self, record: AchFileRecord, received: ReceivedFile | None = None) -> RunReport:
        outcomes = Counter(str(entry.decision.outcome) for entry in self.entries.values())
        unmatched = tuple(sorted(
            entry.trace_number for entry in self.entries.values()
            if entry.decision.reason is Reason.RETURN_UNMATCHED))
        return RunReport(
            file_id=self.file_id, name=record.name, file_type=record.file_type,
            status=record.status, statistics=record.statistics, error=record.error,
            outcomes=dict(sorted(outcomes.items())), posted=self.posted,
            already_done=self.already_done, unmatched_returns=unmatched,
            unresolved=tuple(Unresolved(trace_number=trace, code=code)
                             for trace, code in sorted(self.unresolved.items())))


def _file_type(received: ReceivedFile | RejectedFile) -> AchFileType:
    return received.file_type if isinstance(received, ReceivedFile) else AchFileType.RDFI


def _statistics(received: ReceivedFile | RejectedFile) -> FileStatistics:
    return received.statistics if isinstance(received, ReceivedFile) else FileStatistics()
