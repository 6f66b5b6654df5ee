"""One authorization engine with what it reads and writes, started and stopped together.

Every front door in a process shares it: a producer for the commands, one consumer that
routes results back, the catalog (cards and accounts) and the book of holds.
"""

from __future__ import annotations

from connectors.cards.directory import CardDirectory
from connectors.cards.engine import DEADLINE_S, AuthorizationEngine
from connectors.cards.holds import HoldBook
from connectors.graphql_api.results import ResultWaiter
from streams.client import LedgerClient
from streams.errors import LedgerError
from streams.topics import Topics

__all__ = ["CardRuntime"]

READY_TIMEOUT_S = 120.0


class CardRuntime:
    """Starts an ``AuthorizationEngine`` on a ledger's topics; ``close`` stops it."""

    def __init__(self, bootstrap: str, pan_key: bytes, prefix: str = Topics().prefix,
                 deadline_s: float = DEADLINE_S) -> None:
        self.client = LedgerClient(bootstrap, Topics(prefix=prefix), watch_results=False)
        topics = Topics(prefix=prefix, partitions=self.client.partitions)
        self.results = ResultWaiter(bootstrap, topics)
        self.directory = CardDirectory(bootstrap, topics, pan_key)
        self.holds = HoldBook(bootstrap, topics)
        for part in (self.results, self.directory, self.holds):
            part.start()
        if not (self.directory.wait_ready(READY_TIMEOUT_S)
                and self.holds.wait_ready(READY_TIMEOUT_S)):
            self.close()
            raise LedgerError(f"the catalog and the transactions could not be read within "
                              f"{READY_TIMEOUT_S:.0f}s")
        self.engine = AuthorizationEngine(self.client, self.results, self.directory, self.holds,
                                          deadline_s)

    def close(self) -> None:
        """Stop reading and flush what was sent."""
        for part in (self.holds, self.directory, self.results):
            part.stop()
        self.client.close()
