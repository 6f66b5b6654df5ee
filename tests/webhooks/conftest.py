"""A ledger with a processor and the tutorial's catalog, a receiver, and the sink run in a
thread of the test or as a ``ledger sink webhook run`` process."""

import asyncio
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from connectors.webhooks import WebhookTopics, load_config, run_sink
from ledger_core import Account, Direction, tutorial
from streams.client import LedgerClient
from tests.sink_process import SinkProcess
from tests.streams import conftest as streams_fixtures
from tests.streams.conftest import KafkaLedger
from tests.webhooks.receiver import Receiver

# The fresh ledger of tests/streams, for the fixtures here.
kafka_ledger = streams_fixtures.kafka_ledger

REPO = Path(__file__).resolve().parents[2]
WAIT_S = 90.0
# Retries in the tests wait milliseconds, not seconds.
FAST_RETRY = {"initial_backoff_seconds": 0.05, "max_backoff_seconds": 0.2}


def wait_until(predicate: Callable[[], bool], what: str, timeout_s: float = WAIT_S) -> None:
    """Poll ``predicate``; fail the test with ``what`` if it stays false."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


@dataclass
class WebhookLedger:
    """A running ledger with the tutorial's catalog and some more customer accounts."""

    ledger: KafkaLedger
    client: LedgerClient
    customers: tuple[Account, ...]

    @property
    def topics(self) -> WebhookTopics:
        """The sink's topics of this ledger."""
        return WebhookTopics(self.ledger.topics)

    def deposit(self, account: Account, amount: str) -> uuid.UUID:
        """Post an ACH_CREDIT of ``amount`` to ``account``; return its transaction id."""
        transaction_id = uuid.uuid4()
        result = self.client.post(transaction_id, "ACH_CREDIT",
                                  {"account": str(account.account_id), "amount": amount,
                                   "effective": "2022-09-21"}, owner=account.account_id)
        assert result.status == "POSTED", result
        return transaction_id


@pytest.fixture
def webhook_ledger(kafka_ledger: KafkaLedger) -> WebhookLedger:
    """A processor, the tutorial's journal, accounts and tran codes, and four customers."""
    kafka_ledger.add_processor()
    client = kafka_ledger.client()
    customers = tuple(Account(account_id=uuid.uuid4(), code=f"HOOK.{i}.{uuid.uuid4().hex[:6]}",
                              name=f"Customer {i}", normal_balance_type=Direction.CREDIT)
                      for i in range(4))
    for entity in (tutorial.JOURNAL, *tutorial.ACCOUNTS, *tutorial.TRAN_CODES, *customers):
        assert client.create(entity).status == "APPLIED"
    return WebhookLedger(kafka_ledger, client, customers)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A receiver on loopback."""
    server = Receiver()
    yield server
    server.close()


def write_config(path: Path, subscriptions: list[dict[str, Any]], **settings: Any) -> Path:
    """A configuration file; subscriptions start at the earliest event unless told."""
    document = {"subscriptions": [{"start": "earliest", **s} for s in subscriptions],
                **settings}
    path.write_text(yaml.safe_dump(document))
    return path


class SinkThread:
    """``run_sink`` on its own thread and event loop, stopped as SIGTERM would stop it."""

    def __init__(self, bootstrap: str, topics: WebhookTopics, config: Path) -> None:
        self._args = (bootstrap, topics, load_config(config))
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._started = threading.Event()
        self.result: dict[str, dict[str, int]] | None = None
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._main, daemon=True)
        self._thread.start()
        if not self._started.wait(30):
            raise RuntimeError("the sink did not start")

    def _main(self) -> None:
        async def run() -> None:
            self._loop = asyncio.get_running_loop()
            self._stopping = asyncio.Event()
            self._started.set()
            self.result = await run_sink(*self._args, stopping=self._stopping)
        try:
            asyncio.run(run())
        except BaseException as exc:
            self.error = exc
            self._started.set()

    @property
    def running(self) -> bool:
        """True until ``run_sink`` returned or raised."""
        return self._thread.is_alive()

    def stop(self) -> dict[str, dict[str, int]] | None:
        """Stop it and wait; raise what it raised."""
        if self._loop is not None and self._stopping is not None and self.running:
            self._loop.call_soon_threadsafe(self._stopping.set)
        self._thread.join(60)
        if self.error is not None:
            raise self.error
        return self.result


def webhook_sink(bootstrap: str, prefix: str, config: Path, log: Path) -> SinkProcess:
    """``ledger sink webhook run`` with ``config`` (not started)."""
    return SinkProcess(["webhook", "run", "--config", str(config), "--bootstrap-servers",
                        bootstrap, "--topic-prefix", prefix], log)


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """``ledger ARGS`` to completion."""
    return subprocess.run([sys.executable, "-m", "ledger_cli", *args], capture_output=True,
                          text=True, cwd=REPO, timeout=180, check=False)
