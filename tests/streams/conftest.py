"""A fresh ledger on the real broker for each test: its own topics, processors and client."""

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from ledger_cli.processor_process import ProcessorProcess
from ledger_core import Balance, Direction, Entry, fold_entry
from schemas import mapping
from schemas.codec import codec
from streams.client import LedgerClient, read_partition
from streams.topics import Topics


@dataclass
class KafkaLedger:
    """One ledger's topics on the test broker, with processor processes and a client."""

    bootstrap: str
    topics: Topics
    home: Path
    processors: list[ProcessorProcess] = field(default_factory=list)
    clients: list[LedgerClient] = field(default_factory=list)

    def add_processor(self, instance_id: str | None = None, **options: str) -> ProcessorProcess:
        """Start one more processor process and wait for its first assignment."""
        instance_id = instance_id or f"p{len(self.processors) + 1}"
        extra = tuple(arg for key, value in options.items()
                      for arg in (f"--{key.replace('_', '-')}", value))
        processor = ProcessorProcess(self.bootstrap, self.topics.prefix, instance_id,
                                     self.home / f"state-{instance_id}",
                                     self.home / f"{instance_id}.log",
                                     self.topics.partitions, extra)
        self.processors.append(processor.start())
        return processor

    def client(self) -> LedgerClient:
        """A new client of this ledger."""
        client = LedgerClient(self.bootstrap, self.topics)
        self.clients.append(client)
        return client

    def read(self, topic: str) -> list[Any]:
        """Every committed record of ``topic``, all partitions, in partition order."""
        partitions = 1 if topic in (self.topics.catalog, self.topics.catalog_commands,
                                    self.topics.dead_letters) else self.topics.partitions
        return [message for p in range(partitions)
                for message in read_partition(self.bootstrap, topic, p)]

    def results(self) -> list[dict[str, Any]]:
        """Every result record."""
        return [codec().decode("result", m.value()) for m in self.read(self.topics.results)]

    def entries(self) -> list[Entry]:
        """Every entry on the entries topic."""
        return [mapping.entry_from(codec().decode("entry", m.value()))
                for m in self.read(self.topics.entries)]

    def cdc_balances(self) -> dict[tuple[UUID, UUID, str], Balance]:
        """The latest balance of every key on the balances topic."""
        latest: dict[tuple[UUID, UUID, str], Balance] = {}
        for message in self.read(self.topics.balances):
            balance = mapping.balance_from(codec().decode("balance", message.value()))
            latest[(balance.account_id, balance.journal_id, balance.currency)] = balance
        return latest

    def close(self) -> None:
        """Stop every processor and client."""
        for client in self.clients:
            client.close()
        for processor in self.processors:
            processor.stop()


def fold_entries(entries: list[Entry],
                 normal: dict[UUID, Direction]) -> dict[tuple[UUID, UUID, str], Balance]:
    """Every balance rebuilt from entries alone, in log order per account."""
    folded: dict[tuple[UUID, UUID, str], Balance] = {}
    for entry in entries:
        key = (entry.account_id, entry.journal_id, entry.currency)
        folded[key] = fold_entry(folded.get(key), entry, normal[entry.account_id])
    return folded


def amounts(balances: dict[tuple[UUID, UUID, str], Balance]) -> dict[tuple[UUID, UUID, str],
                                                                    tuple[object, ...]]:
    """What must agree between two computations of the same balances: every layer and the
    version. The last entry a version names depends on the order legs arrived in, which
    the entries topic and the legs topic need not share for a hot account."""
    return {key: (b.settled, b.pending, b.encumbrance, b.version) for key, b in balances.items()}


@pytest.fixture
def kafka_ledger(kafka_bootstrap: str, tmp_path: Path) -> Iterator[KafkaLedger]:
    """A ledger with fresh topics (4 partitions) and no processor yet."""
    ledger = KafkaLedger(kafka_bootstrap, Topics(prefix=f"t{uuid.uuid4().hex[:10]}",
                                                 partitions=4), tmp_path)
    yield ledger
    ledger.close()
