"""Clients and API keys on the ledger's compacted ``<prefix>.auth`` topic.

One record per client, keyed by its principal (UTF-8), valued by its JSON: name, policies,
for an API key the salted hash of its secret (never the secret), and when it was created
and changed. Deleting a client writes a tombstone. Every API instance reads the whole topic
into an ``AuthTable`` (a global table, like the catalog) and follows it, so a client
created through any instance, or with ``ledger auth``, holds on every instance and across
restarts. The topic has one partition: writes are rare and totally ordered.

The API and ``ledger auth`` write the topic directly: a client is not ledger data, and no
processor has anything to decide about it. Two writers changing one client at once: the
later record wins.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    KafkaException,
    Message,
    Producer,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from connectors.graphql_api.auth.keys import KeyHash
from connectors.graphql_api.auth.policies import Policy, PolicyError, policies_from, policy_json
from connectors.graphql_api.consumer_thread import ConsumerThread
from ledger_core.input_bounds import NAME_LENGTH_MAX, label_problem
from streams.errors import LedgerError
from streams.kafka_config import kafka_config
from streams.offsets import end_offset
from streams.topics import Topics, TopicSpec, create_topics

__all__ = ["AuthStore", "AuthTable", "AuthWriter", "ClientRecord", "auth_topic",
           "ensure_auth_topic"]

log = logging.getLogger(__name__)

PRINCIPAL_LENGTH_MAX = 512
POLL_S = 0.05
WRITE_TIMEOUT_S = 30.0


def auth_topic(topics: Topics) -> TopicSpec:
    """The auth topic of a ledger: compacted, one partition."""
    return TopicSpec(topics.auth, 1, True, "API clients and keys")


def ensure_auth_topic(bootstrap: str, topics: Topics) -> str:
    """Create the ledger's auth topic when it is missing; its name."""
    spec = auth_topic(topics)
    admin = AdminClient(kafka_config(bootstrap))
    metadata = admin.list_topics(timeout=15)
    if spec.name not in metadata.topics:
        factor = min(3, len(metadata.brokers))
        create_topics(admin, [NewTopic(spec.name, spec.partitions, factor, config=spec.config)])
    return spec.name


@dataclass(frozen=True)
class ClientRecord:
    """A client: a principal allowed in, with a name and policies (and a key's hash)."""

    principal: str
    name: str
    policies: tuple[Policy, ...]
    key: KeyHash | None
    created: datetime
    modified: datetime

    @classmethod
    def new(cls, principal: str, name: str, policies: object, key: KeyHash | None = None,
            now: datetime | None = None) -> ClientRecord:
        """A client checked for use; ValueError (PolicyError) with the reason otherwise."""
        for value, what, length in ((principal, "principal", PRINCIPAL_LENGTH_MAX),
                                    (name, "name", NAME_LENGTH_MAX)):
            if not value or label_problem(value, length) is not None:
                raise PolicyError(f"the client's {what} must be 1 to {length} printable "
                                  "characters")
        moment = now or datetime.now(UTC)
        return cls(principal, name, policies_from(policies), key, moment, moment)

    def changed(self, name: str | None, policies: object | None) -> ClientRecord:
        """The client with a new name and/or policies."""
        changed = ClientRecord.new(self.principal, self.name if name is None else name,
                                   self.policies_json() if policies is None else policies,
                                   self.key)
        return ClientRecord(changed.principal, changed.name, changed.policies, self.key,
                            self.created, changed.modified)

    def policies_json(self) -> list[dict[str, Any]]:
        """The policies in their JSON form."""
        return [policy_json(policy) for policy in self.policies]

    def value(self) -> bytes:
        """The record's value on the auth topic."""
        return json.dumps({
            "principal": self.principal, "name": self.name, "policies": self.policies_json(),
            "key": None if self.key is None else {"salt": self.key.salt,
                                                  "digest": self.key.digest},
            "created": self.created.isoformat(), "modified": self.modified.isoformat(),
        }, separators=(",", ":")).encode()

    @classmethod
    def of(cls, value: bytes) -> ClientRecord:
        """The client a record's value holds."""
        body = json.loads(value)
        key = body.get("key")
        record = cls.new(body["principal"], body["name"], body["policies"],
                         None if key is None else KeyHash(key["salt"], key["digest"]))
        return ClientRecord(record.principal, record.name, record.policies, record.key,
                            datetime.fromisoformat(body["created"]),
                            datetime.fromisoformat(body["modified"]))


@dataclass(eq=False)
class _Waiter:
    offset: int
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[None]


class AuthTable(ConsumerThread):
    """Every client of one ledger, kept up to date from its auth topic."""

    def __init__(self, bootstrap: str, topics: Topics) -> None:
        super().__init__("api-auth-table", POLL_S, 1000)
        self.bootstrap = bootstrap
        self.topic = auth_topic(topics).name
        self.unreadable = 0
        self._clients: dict[str, ClientRecord] = {}
        self._position = 0
        self._waiters: list[_Waiter] = []
        self._lock = threading.Lock()
        self._ends: Consumer | None = None

    def start(self) -> None:
        """Create the topic when missing, read it from its beginning, then follow it."""
        ensure_auth_topic(self.bootstrap, Topics(prefix=self.topic.removesuffix(".auth")))
        settings = {"group.id": f"api-auth-{uuid.uuid4()}", "enable.auto.commit": False,
                    "isolation.level": "read_committed", "auto.offset.reset": "earliest"}
        consumer = Consumer(kafka_config(self.bootstrap, {"client.id": "ledger-api-auth",
                                                          **settings}))
        consumer.assign([TopicPartition(self.topic, 0, OFFSET_BEGINNING)])
        self._ends = Consumer(kafka_config(self.bootstrap, settings))
        self._launch(consumer)

    def stop(self) -> None:
        """Stop following the topic."""
        super().stop()
        if self._ends is not None:
            self._ends.close()
            self._ends = None

    def _handle(self, consumer: Consumer, messages: list[Message]) -> None:
        for message in messages:
            if message.error() is None:
                self._apply(message)
        position = consumer.position([TopicPartition(self.topic, 0)])[0].offset
        with self._lock:
            if position >= 0:
                self._position = position
            ready = [w for w in self._waiters if w.offset <= self._position]
            self._waiters = [w for w in self._waiters if w.offset > self._position]
        for waiter in ready:
            _resolve_soon(waiter)

    def _apply(self, message: Message) -> None:
        principal = (message.key() or b"").decode(errors="replace")
        value = message.value()
        if value is None:
            self._clients.pop(principal, None)
            return
        try:
            self._clients[principal] = ClientRecord.of(value)
        except (ValueError, KeyError, TypeError):
            # Only a writer other than the API and `ledger auth` can have written it: a
            # client that cannot be read lets nobody in.
            self._clients.pop(principal, None)
            self.unreadable += 1
            log.warning("auth record at offset %d cannot be read; its principal is refused",
                        message.offset())

    def client(self, principal: str) -> ClientRecord | None:
        """The client of ``principal`` as far as the table has read, or None."""
        return self._clients.get(principal)

    def clients(self) -> list[ClientRecord]:
        """Every client, by principal."""
        return sorted(self._clients.values(), key=lambda c: c.principal)

    async def caught_up(self, timeout_s: float, offset: int | None = None) -> None:
        """Return once the table has read up to ``offset`` (the topic's current end by
        default); ``LedgerError`` after ``timeout_s``."""
        if offset is None:
            ends = self._ends
            assert ends is not None, "the table was not started"
            offset = await asyncio.to_thread(end_offset, ends, self.topic, 0)
        loop = asyncio.get_running_loop()
        waiter = _Waiter(offset, loop, loop.create_future())
        with self._lock:
            if self._position >= offset:
                return
            self._waiters.append(waiter)
        try:
            await asyncio.wait_for(waiter.future, timeout_s)
        except TimeoutError:
            raise LedgerError(f"the auth table did not reach offset {offset} of {self.topic} "
                              f"in {timeout_s:g}s") from None
        finally:
            with self._lock, contextlib.suppress(ValueError):
                self._waiters.remove(waiter)


def _resolve_soon(waiter: _Waiter) -> None:
    def resolve() -> None:
        if not waiter.future.done():
            waiter.future.set_result(None)

    with contextlib.suppress(RuntimeError):  # a closed loop: its request is gone
        waiter.loop.call_soon_threadsafe(resolve)


class AuthWriter:
    """Writes clients to a ledger's auth topic, each acknowledged by every in-sync replica."""

    def __init__(self, bootstrap: str, topics: Topics) -> None:
        self.topic = auth_topic(topics).name
        self._producer = Producer(kafka_config(bootstrap, {
            "client.id": "ledger-auth-writer", "enable.idempotence": True, "acks": "all"}))

    def put(self, client: ClientRecord) -> int:
        """Write the client; the offset just past its record."""
        return self._write(client.principal, client.value())

    def delete(self, principal: str) -> int:
        """Write the principal's tombstone; the offset just past it."""
        return self._write(principal, None)

    def _write(self, principal: str, value: bytes | None) -> int:
        delivered: list[Message] = []
        failed: list[str] = []

        def report(error: Any, message: Message) -> None:
            if error is not None:
                failed.append(str(error))
            else:
                delivered.append(message)

        try:
            self._producer.produce(self.topic, key=principal.encode(), value=value,
                                   partition=0, on_delivery=report)
            self._producer.flush(WRITE_TIMEOUT_S)
        except KafkaException as exc:
            raise LedgerError(f"the client could not be written to {self.topic}: {exc}") from exc
        if failed or not delivered:
            raise LedgerError(f"the client could not be written to {self.topic}: "
                              f"{failed[0] if failed else 'no acknowledgement in time'}")
        offset = delivered[0].offset()
        assert offset is not None
        return offset + 1

    def close(self) -> None:
        """Send what is pending and release the producer (freed once it is collected)."""
        self._producer.flush(WRITE_TIMEOUT_S)
        del self._producer



class AuthStore:
    """A ledger's clients, for the API: the table every request reads, and the writer of
    the management mutations, whose writes the table has read once they return."""

    def __init__(self, bootstrap: str, topics: Topics, timeout_s: float) -> None:
        self.table = AuthTable(bootstrap, topics)
        self.writer = AuthWriter(bootstrap, topics)
        self.timeout_s = timeout_s

    async def put(self, client: ClientRecord) -> None:
        """Write the client; return once this instance's table holds it."""
        offset = await asyncio.to_thread(self.writer.put, client)
        await self.table.caught_up(self.timeout_s, offset)

    async def delete(self, principal: str) -> None:
        """Delete the client; return once this instance's table no longer holds it."""
        offset = await asyncio.to_thread(self.writer.delete, principal)
        await self.table.caught_up(self.timeout_s, offset)

    def close(self) -> None:
        """Stop following the topic and release the writer."""
        self.table.stop()
        self.writer.close()
