"""A tutorial ledger with a workload of ACH postings, and the sink as a child process."""

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from ledger_core import tutorial
from streams.client import LedgerClient
from tests.sink_process import SinkProcess
from tests.streams.conftest import KafkaLedger, kafka_ledger

__all__ = ["kafka_ledger"]  # the fixture, shared with the processor's tests

FIRST_DAY = date(2022, 9, 19)


@dataclass(frozen=True)
class Posted:
    """One posting the workload sent and the ledger posted."""

    tran_code: str
    account: uuid.UUID
    amount: Decimal
    effective: date


def open_tutorial(ledger: KafkaLedger) -> LedgerClient:
    """A processor and a client on the tutorial's journal, accounts and tran codes."""
    ledger.add_processor()
    client = ledger.client()
    for entity in (tutorial.JOURNAL, *tutorial.ACCOUNTS, *tutorial.TRAN_CODES):
        assert client.create(entity).status == "APPLIED"
    return client


def post_ach(client: LedgerClient, count: int, rng: random.Random, days: int = 5,
             chunk: int = 25) -> list[Posted]:
    """``count`` ACH credits and debits to Ernie and Bert over ``days`` effective dates,
    sent ``chunk`` at a time; every one must post."""
    posted: list[Posted] = []
    while len(posted) < count:
        batch = [Posted(rng.choice(("ACH_CREDIT", "ACH_DEBIT")),
                        rng.choice((tutorial.ERNIE, tutorial.BERT)).account_id,
                        Decimal(rng.randint(1, 100_000)).scaleb(-2),
                        FIRST_DAY + timedelta(days=rng.randrange(days)))
                 for _ in range(min(chunk, count - len(posted)))]
        ids = [client.send_post(uuid.uuid4(), p.tran_code,
                                {"account": str(p.account), "amount": str(p.amount),
                                 "effective": p.effective.isoformat()}, owner=p.account)
               for p in batch]
        results = client.wait(ids)
        assert all(r.status == "POSTED" for r in results.values()), results
        posted += batch
    return posted


def parquet_sink(ledger: KafkaLedger, out: Path, *extra: str) -> SinkProcess:
    """``ledger sink parquet run`` for ``ledger``, writing to ``out`` (not started)."""
    return SinkProcess(["parquet", "run", "--bootstrap-servers", ledger.bootstrap,
                        "--topic-prefix", ledger.topics.prefix, "--out", str(out), *extra],
                       ledger.home / "sink.log")


@pytest.fixture
def sinks() -> Iterator[list[SinkProcess]]:
    """Sink processes a test starts, killed at its end if still running."""
    started: list[SinkProcess] = []
    yield started
    for sink in started:
        if sink.alive:
            sink.kill()
