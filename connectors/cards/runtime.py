"""One authorization engine with what it reads and writes, started and stopped together.

Every front door in a process shares it: a producer for the commands, one consumer that
routes results back, the catalog (cards and accounts) and the book of holds. A process that
already has the producer and the results consumer (the GraphQL API) hosts an engine on them
with ``HostedCardEngine``.
"""

from __future__ import annotations

import secrets

from connectors.cards.directory import CardDirectory
from connectors.cards.engine import DEADLINE_S, AuthorizationEngine
from connectors.cards.holds import HoldBook
from connectors.graphql_api.results import ResultWaiter
from streams.client import LedgerClient
from streams.errors import LedgerError
from streams.topics import Topics

__all__ = ["CardRuntime", "HostedCardEngine"]

READY_TIMEOUT_S = 120.0


class CardRuntime:
    """An ``AuthorizationEngine`` with a client and a results waiter of its own, on a ledger's
    topics (a card server process); ``close`` stops it. ``pan_key`` as for
    ``HostedCardEngine``."""

    def __init__(self, bootstrap: str, pan_key: bytes | None, prefix: str = Topics().prefix,
                 deadline_s: float = DEADLINE_S) -> None:
        self.client = LedgerClient(bootstrap, Topics(prefix=prefix), watch_results=False)
        topics = Topics(prefix=prefix, partitions=self.client.partitions)
        self.results = ResultWaiter(bootstrap, topics)
        self.results.start()
        self._hosted = HostedCardEngine(bootstrap, topics, self.client, self.results, pan_key,
                                        deadline_s)
        try:
            self._hosted.start()
        except LedgerError:
            self.close()
            raise
        self.engine = self._hosted.engine
        self.directory = self._hosted.directory

    def close(self) -> None:
        """Stop reading and flush what was sent."""
        self._hosted.stop()
        self.results.stop()
        self.client.close()


class HostedCardEngine:
    """An ``AuthorizationEngine`` on a client and a results waiter that the hosting process
    owns (starts, stops and closes); ``start`` and ``stop`` concern only the card directory
    and the hold book.

    Without ``pan_key`` the directory hashes PANs under a random key of its own, which no
    card was created with: a PAN then matches no card (UNKNOWN_CARD), while a card token, or
    an event that names its account, needs no key. So a host whose front door names the
    account (the API's ``postLithicTransaction``) needs no PAN key configured.
    """

    def __init__(self, bootstrap: str, topics: Topics, client: LedgerClient,
                 results: ResultWaiter, pan_key: bytes | None = None,
                 deadline_s: float | None = None) -> None:
        self.directory = CardDirectory(bootstrap, topics,
                                       secrets.token_bytes(32) if pan_key is None else pan_key)
        self.holds = HoldBook(bootstrap, topics)
        self.engine = AuthorizationEngine(client, results, self.directory, self.holds,
                                          DEADLINE_S if deadline_s is None else deadline_s)

    def start(self, timeout_s: float = READY_TIMEOUT_S) -> None:
        """Read the catalog and the transactions written before now, then follow them."""
        self.directory.start()
        self.holds.start()
        if not (self.directory.wait_ready(timeout_s) and self.holds.wait_ready(timeout_s)):
            raise LedgerError(f"the catalog and the transactions could not be read within "
                              f"{timeout_s:.0f}s")

    def stop(self) -> None:
        """Stop following the catalog and the transactions."""
        self.holds.stop()
        self.directory.stop()
