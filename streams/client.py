"""The producer side of the ledger: send commands, and wait for their results.

Posting commands are keyed by their owner account (the account whose rules must be checked,
usually the customer's) and voids by the owner account of the transaction they void, so a
command always reaches the partition that holds its idempotency key. Catalog commands go to
the single catalog-commands partition. Every command gets exactly one result on the results
topic; a client that times out may re-send the same id safely.
"""

import json
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import msgspec
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition

from ledger_core import (
    Account,
    AccountSet,
    AccountSetMember,
    Balance,
    Card,
    ControlAttachment,
    ControlLimit,
    Enforcement,
    Iso8583Config,
    Journal,
    PostedTransaction,
    PostTransaction,
    Rejected,
    Rejection,
    RejectionCode,
    TranCode,
    VelocityControl,
    VelocityLimit,
    VoidTransaction,
    parse_command,
)
from ledger_core.catalog import CatalogEntity, CatalogKind, catalog_input_refusal
from schemas import mapping
from schemas.codec import codec
from streams.errors import CommandRefusedError, CommandTimeoutError, LedgerError
from streams.kafka_config import kafka_config
from streams.offsets import end_offset
from streams.outputs import command_key
from streams.partition_task import balance_key
from streams.partitioning import account_key, owner_partition
from streams.reading import read_committed
from streams.topics import Topics

RESULT_TIMEOUT_S = 30.0
# Told whether Kafka took a command: None, or the error that refused it.
Delivered = Callable[[KafkaError | None], None]
_NOT_AUTHORIZED = {KafkaError.TOPIC_AUTHORIZATION_FAILED, KafkaError.CLUSTER_AUTHORIZATION_FAILED,
                   KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED}
_CREATE_KINDS: dict[type, CatalogKind] = {
    Journal: CatalogKind.CREATE_JOURNAL, Account: CatalogKind.CREATE_ACCOUNT,
    TranCode: CatalogKind.CREATE_TRAN_CODE, VelocityLimit: CatalogKind.CREATE_LIMIT,
    Card: CatalogKind.CREATE_CARD, Iso8583Config: CatalogKind.CREATE_ISO8583_CONFIG,
    AccountSet: CatalogKind.CREATE_ACCOUNT_SET, AccountSetMember: CatalogKind.ADD_TO_ACCOUNT_SET,
    ControlLimit: CatalogKind.CREATE_VELOCITY_LIMIT,
    VelocityControl: CatalogKind.CREATE_VELOCITY_CONTROL,
    ControlAttachment: CatalogKind.ATTACH_VELOCITY_CONTROL,
}


def posting_command(transaction_id: UUID, tran_code: str, params: Mapping[str, Any],
                    version: int | None = None,
                    override: Enforcement | None = None) -> PostTransaction:
    """The posting command a client sends, validated as the processor parses it; a
    malformed one raises ``CommandRefusedError`` with its rejection."""
    command = parse_command({"transaction_id": transaction_id, "tran_code": tran_code,
                             "tran_code_version": version, "params": dict(params),
                             "override_enforcement": override})
    if isinstance(command, Rejected):
        raise CommandRefusedError(command.rejection)
    assert isinstance(command, PostTransaction), command
    return command


@dataclass(frozen=True)
class Result:
    """The answer to one command."""

    command_id: str
    transaction_id: str | None
    status: str
    code: str | None
    message: str | None
    field: str | None
    value: str | None
    detail: dict[str, str] | None
    transaction: PostedTransaction | None
    warnings: tuple[dict[str, Any], ...]
    entity: dict[str, Any] | None
    partition: int
    offset: int

    @property
    def ok(self) -> bool:
        """True for POSTED and APPLIED."""
        return self.status != "REJECTED"

    def to_json(self) -> dict[str, Any]:
        """A JSON-able view of the result."""
        body: dict[str, Any] = {"commandId": self.command_id, "status": self.status,
                                "transactionId": self.transaction_id}
        if self.code is not None:
            body.update(code=self.code, message=self.message, field=self.field,
                        value=self.value)
            if self.detail is not None:
                body["detail"] = self.detail
        if self.transaction is not None:
            body["transaction"] = json.loads(msgspec.json.encode(self.transaction))
        if self.warnings:
            body["warnings"] = list(self.warnings)
        if self.entity is not None:
            body["entity"] = self.entity
        return body


def _detail(detail_json: str | None) -> dict[str, str] | None:
    detail: dict[str, str] | None = None if detail_json is None else json.loads(detail_json)
    return detail


def result_from(record: dict[str, Any], partition: int = -1, offset: int = -1) -> Result:
    """A Result from a decoded result record."""
    transaction = record["transaction"]
    if transaction is not None:
        transaction = codec().decode("transaction", transaction)
    return Result(
        command_id=record["command_id"], transaction_id=record["transaction_id"],
        status=record["status"], code=record["code"],
        message=record["message"], field=record["field"], value=record["value"],
        detail=_detail(record["detail_json"]),
        transaction=None if transaction is None else mapping.posted_from(transaction),
        warnings=tuple({"code": w["code"], "message": w["message"], "field": w["field"],
                        "value": w["value"], "detail": _detail(w["detail_json"])}
                       for w in record["warnings"]),
        entity=None if record["entity_json"] is None else json.loads(record["entity_json"]),
        partition=partition, offset=offset,
    )


class LedgerClient:
    """Sends commands to the ledger's topics and collects their results."""

    def __init__(self, bootstrap: str, topics: Topics | None = None,
                 watch_results: bool = True) -> None:
        self.bootstrap = bootstrap
        self.topics = topics or Topics()
        self._producer = Producer(kafka_config(bootstrap, {"enable.idempotence": True,
                                                           "acks": "all", "linger.ms": 1}))
        self.partitions = self._partition_count()
        self._results: dict[str, Result] = {}
        self._refused: list[tuple[str, KafkaError]] = []
        self._watcher: Consumer | None = None
        if watch_results:
            self._watcher = self._watch_results()

    def _partition_count(self) -> int:
        try:
            metadata = self._producer.list_topics(self.topics.commands, timeout=15)
        except KafkaException as exc:
            raise LedgerError(f"cannot reach Kafka at {self.bootstrap}: {exc}") from exc
        topic = metadata.topics.get(self.topics.commands)
        if topic is not None and topic.error is not None \
                and topic.error.code() in _NOT_AUTHORIZED:
            raise LedgerError(f"Kafka refused to describe {self.topics.commands}: this principal "
                              f"may not write {self.topics.commands} (docs/kafka-security.md "
                              "lists the ACLs of each role)")
        if topic is None or topic.error is not None or not topic.partitions:
            raise LedgerError(f"topic {self.topics.commands} does not exist: start a processor "
                              "(`ledger processor run`) to create the ledger's topics")
        return len(topic.partitions)

    def _watch_results(self) -> Consumer:
        consumer = Consumer(kafka_config(self.bootstrap, {
            "group.id": f"client-{uuid.uuid4()}", "isolation.level": "read_committed",
            "enable.auto.commit": False,
        }))
        assignment = []
        for partition in range(self.partitions):
            high = end_offset(consumer, self.topics.results, partition)
            assignment.append(TopicPartition(self.topics.results, partition, high))
        consumer.assign(assignment)
        return consumer

    # Sending ------------------------------------------------------------------------

    def send_post(self, transaction_id: UUID, tran_code: str, params: Mapping[str, Any],
                  owner: UUID, version: int | None = None,
                  override: Enforcement | None = None, command_id: str | None = None,
                  delivered: Delivered | None = None) -> str:
        """Send a posting command keyed by ``owner``; return its command id.

        ``command_id`` (default: a new UUID) lets a caller wait for the result before sending.
        ``delivered`` is called with None once Kafka has the command, or with its error (from
        ``poll``, ``flush`` or a later send).
        """
        command = posting_command(transaction_id, tran_code, params, version, override)
        return self._send_command(command, owner, command_id, delivered)

    def send_void(self, void_of: UUID, owner: UUID, transaction_id: UUID | None = None,
                  command_id: str | None = None, delivered: Delivered | None = None) -> str:
        """Send a void of ``void_of``, keyed by the owner account of the original posting.

        The void's transaction id defaults to one derived from ``void_of``; ``delivered`` as
        for ``send_post``.
        """
        command = (VoidTransaction(void_of=void_of) if transaction_id is None
                   else VoidTransaction(void_of=void_of, transaction_id=transaction_id))
        return self._send_command(command, owner, command_id, delivered)

    def _send_command(self, command: PostTransaction | VoidTransaction, owner: UUID,
                      command_id: str | None, delivered: Delivered | None = None) -> str:
        command_id = command_id or str(uuid.uuid4())
        key, value, partition = command_message(command, owner, command_id, self.partitions,
                                                datetime.now(UTC))
        self._produce(self.topics.commands, key, value, partition, delivered)
        return command_id

    def send_catalog(self, kind: CatalogKind, body: Mapping[str, Any],
                     command_id: str | None = None) -> str:
        """Send a catalog command; return its command id."""
        refusal = catalog_input_refusal(kind, body)
        if refusal is not None:
            raise CommandRefusedError(refusal.rejection)
        command_id = command_id or str(uuid.uuid4())
        record = {"command_id": command_id, "kind": kind.value,
                  "body_json": mapping.dump_json(dict(body)), "sent_at": datetime.now(UTC)}
        self._produce(self.topics.catalog_commands, command_key(command_id),
                      codec().encode("catalog_command", record), 0)
        return command_id

    def send_raw(self, topic: str, key: bytes | None, value: bytes, partition: int) -> None:
        """Produce raw bytes (tests and tools use it to send bad input)."""
        self._produce(topic, key, value, partition)

    def _produce(self, topic: str, key: bytes | None, value: bytes, partition: int,
                 delivered: Delivered | None = None) -> None:
        def report(error: KafkaError | None, message: Any) -> None:
            self._delivered(error, message)
            if delivered is not None:
                delivered(error)

        while True:
            try:
                self._producer.produce(topic, value, key, partition=partition,
                                       on_delivery=report)
                self._producer.poll(0)
                return
            except BufferError:
                self._producer.poll(0.05)
            except KafkaException as exc:
                if exc.args[0].code() != KafkaError.MSG_SIZE_TOO_LARGE:
                    raise
                raise CommandRefusedError(Rejection(
                    code=RejectionCode.RECORD_TOO_LARGE,
                    message=f"the {topic} record is {len(value)} bytes, more than Kafka "
                            "accepts")) from exc

    def _delivered(self, error: KafkaError | None, message: Any) -> None:
        if error is not None:
            self._refused.append((message.topic(), error))

    def poll(self, timeout_s: float) -> None:
        """Serve the producer's delivery reports for up to ``timeout_s``."""
        self._producer.poll(timeout_s)

    def flush(self, timeout_s: float = 30.0) -> None:
        """Wait until every sent command is acknowledged by Kafka; raise if Kafka refused one
        (no result would ever come for it)."""
        if self._producer.flush(timeout_s) > 0:
            raise LedgerError(f"commands were not acknowledged by Kafka in {timeout_s}s")
        if self._refused:
            refused, self._refused = self._refused, []
            topic, error = refused[0]
            reason = (f"this principal may not write {topic}"
                      if error.code() in _NOT_AUTHORIZED else error.str())
            raise LedgerError(f"Kafka refused {len(refused)} record(s), the first to {topic}: "
                              f"{reason}")

    # Waiting ------------------------------------------------------------------------

    def wait(self, command_ids: Iterable[str],
             timeout_s: float = RESULT_TIMEOUT_S) -> dict[str, Result]:
        """Wait for the result of every command; raise CommandTimeoutError if one is late."""
        wanted = set(command_ids)
        self.flush(timeout_s)
        deadline = time.monotonic() + timeout_s
        while not wanted <= self._results.keys():
            if time.monotonic() > deadline:
                missing = sorted(wanted - self._results.keys())
                raise CommandTimeoutError(
                    f"no result for {len(missing)} command(s) (first: {missing[0]}) within "
                    f"{timeout_s:.0f}s; the commands are not lost, and re-sending the same "
                    "ids is safe")
            self.poll_results(0.02)
        return {command_id: self._results[command_id] for command_id in wanted}

    def poll_results(self, timeout_s: float) -> list[Result]:
        """Collect the results that arrived; return them."""
        assert self._watcher is not None, "this client does not watch results"
        arrived = []
        for message in self._watcher.consume(1000, timeout=timeout_s):
            if message.error() is not None:
                continue
            result = result_from(codec().decode("result", message.value()),
                                 message.partition() or 0, message.offset() or 0)
            self._results[result.command_id] = result
            arrived.append(result)
        return arrived

    def forget(self, command_ids: Iterable[str]) -> None:
        """Drop collected results (long-running clients call it to bound memory)."""
        for command_id in command_ids:
            self._results.pop(command_id, None)

    # Blocking helpers ---------------------------------------------------------------

    def post(self, transaction_id: UUID, tran_code: str, params: Mapping[str, Any],
             owner: UUID, version: int | None = None, override: Enforcement | None = None,
             timeout_s: float = RESULT_TIMEOUT_S) -> Result:
        """Post and wait for the result."""
        command_id = self.send_post(transaction_id, tran_code, params, owner, version, override)
        return self.wait([command_id], timeout_s)[command_id]

    def void(self, void_of: UUID, owner: UUID, transaction_id: UUID | None = None,
             timeout_s: float = RESULT_TIMEOUT_S) -> Result:
        """Void and wait for the result."""
        command_id = self.send_void(void_of, owner, transaction_id)
        return self.wait([command_id], timeout_s)[command_id]

    def create(self, entity: CatalogEntity, timeout_s: float = RESULT_TIMEOUT_S) -> Result:
        """Create a journal, account, account set, tran code, limit, velocity limit or
        control, card or ISO 8583 config given as a model, add a member to a set, or attach
        a velocity control; wait for it."""
        kind = _CREATE_KINDS[type(entity)]
        return self.catalog(kind, entity.model_dump(mode="json", by_alias=True), timeout_s)

    def catalog(self, kind: CatalogKind, body: Mapping[str, Any],
                timeout_s: float = RESULT_TIMEOUT_S) -> Result:
        """Send a catalog command and wait for the result."""
        command_id = self.send_catalog(kind, body)
        return self.wait([command_id], timeout_s)[command_id]

    # Reading ------------------------------------------------------------------------

    def balances(self, account_id: UUID) -> list[Balance]:
        """The latest balance of ``account_id`` in every journal and currency (from CDC)."""
        partition = owner_partition(account_id, self.partitions)
        latest: dict[bytes, Balance] = {}
        for message in read_partition(self.bootstrap, self.topics.balances, partition):
            balance = mapping.balance_from(codec().decode("balance", message.value()))
            if balance.account_id == account_id:
                key = balance_key(balance.account_id, balance.journal_id, balance.currency)
                latest[key] = balance
        return sorted(latest.values(), key=lambda b: (str(b.journal_id), b.currency))

    def wait_converged(self, timeout_s: float = RESULT_TIMEOUT_S) -> None:
        """Wait until the processors have applied every leg sent so far.

        A posting is accepted when its owner commits; legs on other partitions' accounts
        follow. This waits until the processor group's committed offsets on the legs topic
        reach the topic's end as it is now.
        """
        probe = Consumer(kafka_config(self.bootstrap, {
            "group.id": self.topics.processor_group, "isolation.level": "read_committed",
            "enable.auto.commit": False,
        }))
        try:
            ends = [TopicPartition(self.topics.legs, p,
                                   end_offset(probe, self.topics.legs, p))
                    for p in range(self.partitions)]
            deadline = time.monotonic() + timeout_s
            while True:
                committed = probe.committed(ends, timeout=10)
                if all(c.offset >= e.offset or e.offset == 0
                       for c, e in zip(committed, ends, strict=True)):
                    return
                if time.monotonic() > deadline:
                    behind = [f"{e.partition}: {c.offset} of {e.offset}"
                              for c, e in zip(committed, ends, strict=True)
                              if c.offset < e.offset]
                    raise CommandTimeoutError(f"legs were not all applied in {timeout_s:.0f}s "
                                              f"(partition: committed of end: {behind})")
                time.sleep(0.1)
        finally:
            probe.close()

    def close(self) -> None:
        """Flush what was sent, release the producer and stop watching results."""
        self._producer.flush(10)
        self._producer.close()
        if self._watcher is not None:
            self._watcher.close()
            self._watcher = None


def command_message(command: PostTransaction | VoidTransaction, owner: UUID, command_id: str,
                    partitions: int, sent_at: datetime) -> tuple[bytes, bytes, int]:
    """The key, value and partition of a commands-topic record: keyed by the ``owner``
    account, on the partition that owns it."""
    record = mapping.command_record(command, command_id, sent_at)
    return (account_key(owner), codec().encode("command", record),
            owner_partition(owner, partitions))


def read_partition(bootstrap: str, topic: str, partition: int) -> list[Any]:
    """Every committed record of one partition up to its current end."""
    return list(read_committed(bootstrap, topic, [partition]))
