"""What a request works with: the instance's services, and what the request has seen.

Reads are consistent with writes through one rule: before a resolver reads a partition, the
read model must have read that partition up to its end as Kafka reported it at the request's
*snapshot*: the ends of every partition the read model reads, fetched from Kafka after the
request started (``SharedEnds`` lets concurrent requests share one fetch). A write (a
mutation whose result has arrived) clears the snapshot, so the next read takes one fetched
after the write. Hence:

- a query sees every write acknowledged to anyone before the query started, on the
  accounts' own partitions;
- inside a mutation, fields read after a write (the posted transaction's nested fields,
  and ``Mutation.queries``) see that write;
- ``Mutation.queries`` also waits until the processors have applied this request's legs on
  other partitions (the house account of a deposit, say) and the read model has read the
  balances they wrote, so every balance the posting touched is included.

A plain query does not wait for legs: an account on another partition than the posting's
owner shows the posting once its processor has applied the leg, usually within one
processor batch.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from connectors.cards.events import Decider
from connectors.graphql_api.ach_gateway import AchGateway
from connectors.graphql_api.auth.gate import Identity
from connectors.graphql_api.auth.store import AuthStore
from connectors.graphql_api.commands import CommandGateway
from connectors.graphql_api.errors import ReadModelTimeoutError
from connectors.graphql_api.read_model import Part, ReadModel
from connectors.graphql_api.watermarks import SharedEnds, Watermarks
from streams.partitioning import owner_partition
from streams.topics import Topics

__all__ = ["RequestContext", "Services"]

LEGS_POLL_S = 0.005


@dataclass
class Services:
    """The long-lived parts of one API instance, shared by every request."""

    topics: Topics
    read_model: ReadModel
    watermarks: Watermarks
    ends: SharedEnds
    gateway: CommandGateway
    read_timeout_s: float
    # the card authorization engine of the instance, on the gateway's client and results
    cards: Decider
    ach: AchGateway
    auth: AuthStore | None = None

    def catalog_part(self) -> Part:
        """The catalog's one partition."""
        return (self.topics.catalog, 0)

    def balance_part(self, account_id: UUID) -> Part:
        """The balances partition that holds the account's balances."""
        return (self.topics.balances, owner_partition(account_id, self.topics.partitions))

    def entries_part(self, account_id: UUID) -> Part:
        """The entries partition that holds the account's entries."""
        return (self.topics.entries, owner_partition(account_id, self.topics.partitions))

    def transaction_parts(self) -> list[Part]:
        """Every transactions partition (a transaction lives on its owner's)."""
        return [(self.topics.transactions, p) for p in range(self.topics.partitions)]


@dataclass
class RequestContext:
    """One GraphQL request: the services of its tenant, who sent it, its snapshot, and the
    legs its writes left.

    ``identity`` is None when authentication is off. ``checked_reads`` are the resources
    whose every record read must be checked against the caller's policies (their
    assertions read ``context.document``), and ``policy_context`` is the ``context`` they
    read, but for the document; ``Authorize`` fills both before the document runs.
    """

    services: Services
    identity: Identity | None = None
    checked_reads: set[str] = field(default_factory=set)
    policy_context: dict[str, Any] = field(default_factory=dict)
    _since: float = field(default_factory=time.monotonic)
    _snapshot: dict[Part, int] | None = None
    _snapshot_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _legs: set[int] = field(default_factory=set)

    async def fresh(self, parts: Iterable[Part]) -> None:
        """Wait until the read model has read ``parts`` up to the request's snapshot."""
        snapshot = await self._current_snapshot()
        targets = {part: snapshot[part] for part in parts}
        await self.services.read_model.wait_for(targets, self.services.read_timeout_s)

    async def _current_snapshot(self) -> dict[Part, int]:
        async with self._snapshot_lock:
            if self._snapshot is None:
                self._snapshot = await self.services.ends.since(self._since)
            return self._snapshot

    def wrote(self, legs: Iterable[int] = ()) -> None:
        """A write of this request was acknowledged: later reads must include it.

        ``legs`` are the legs partitions the write sent entries to, for ``converge``.
        """
        self._snapshot = None
        self._since = time.monotonic()
        self._legs.update(legs)

    async def converge(self) -> None:
        """Wait until the processors have applied every leg this request's writes sent."""
        if not self._legs:
            return
        legs = sorted(self._legs)
        watermarks = self.services.watermarks
        ends = await watermarks.ends([(self.services.topics.legs, q) for q in legs])
        deadline = time.monotonic() + self.services.read_timeout_s
        while True:
            applied = await watermarks.legs_applied(legs)
            behind = {q: (applied.get(q, -1), ends[(self.services.topics.legs, q)])
                      for q in legs if applied.get(q, -1) < ends[(self.services.topics.legs, q)]}
            if not behind:
                break
            if time.monotonic() > deadline:
                raise ReadModelTimeoutError(
                    "the processors did not apply this request's legs in "
                    f"{self.services.read_timeout_s:g}s (legs partition: applied of end: "
                    f"{behind}); the posting is accepted and its legs will follow")
            await asyncio.sleep(LEGS_POLL_S)
        self._legs.clear()
        self._snapshot = None
        self._since = time.monotonic()
