"""Shared fixtures for the ledger_core tests: a fixed clock and ready-made ledgers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ledger_core import MemoryLedger, card_lifecycle, tutorial

NOW = datetime(2022, 9, 21, 15, 30, tzinfo=UTC)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the engine conformance test last, so it sees every expression compiled before."""
    items.sort(key=lambda item: "test_zz_engine_conformance" in item.nodeid)


@pytest.fixture
def now() -> datetime:
    """The wall time every decision in these tests is made at."""
    return NOW


@pytest.fixture
def tutorial_ledger() -> MemoryLedger:
    """A ledger holding the Twisp 101 tutorial's journal, accounts and tran codes."""
    ledger = MemoryLedger()
    tutorial.install(ledger)
    return ledger


@pytest.fixture
def card_ledger() -> MemoryLedger:
    """A ledger holding the card lifecycle's accounts, tran codes and limit."""
    ledger = MemoryLedger()
    card_lifecycle.install(ledger)
    return ledger
