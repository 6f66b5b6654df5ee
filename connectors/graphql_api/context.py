"""What a request works with: the instance's services, and what the request has seen.

Reads are consistent with writes through one rule: before a resolver reads, the read model
must have read every partition it reads up to its end as Kafka reported it at the request's
*snapshot*: the ends fetched from Kafka after the request started (``SharedEnds`` lets
concurrent requests share one fetch). The request then reads one ``View`` of the read model,
fixed at that moment, so every field of its answer agrees with every other. A write (a
mutation whose result has arrived) clears both, so the next read takes a snapshot fetched
after the write. Hence:

- a query sees every write acknowledged to anyone before the query started, on every
  account each one touched, and never a transaction on some of its accounts only;
- inside a mutation, fields read after a write (the posted transaction's nested fields,
  and ``Mutation.queries``) see that write;
- in a ``@dryRun`` mutation, nothing is written: reads see the request's view and the
  postings the document decided over it (``dry_run``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from connectors.cards.events import Decider
from connectors.graphql_api.ach_gateway import AchGateway
from connectors.graphql_api.auth.gate import Identity
from connectors.graphql_api.auth.store import AuthStore
from connectors.graphql_api.commands import CommandGateway
from connectors.graphql_api.dry_run import DryRun
from connectors.graphql_api.read_model import Part, ReadModel, View
from connectors.graphql_api.watermarks import SharedEnds, Watermarks
from streams.topics import Topics

__all__ = ["RequestContext", "Services"]


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

    def transaction_parts(self) -> list[Part]:
        """Every transactions partition (a transaction lives on its owner's)."""
        return [(self.topics.transactions, p) for p in range(self.topics.partitions)]


@dataclass
class RequestContext:
    """One GraphQL request: the services of its tenant, who sent it, its snapshot and the
    view of the read model it reads.

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
    _view: View | None = None
    _view_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # True for a ``@dryRun`` mutation (``DryRunDirective``): its postings are decided in
    # ``_dry_run`` over the request's view, and its reads see them.
    dry_run: bool = False
    _dry_run: DryRun | None = None

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

    async def view(self) -> View:
        """The view of the read model this request reads, taken once the read model has read
        every partition up to the request's snapshot."""
        async with self._view_lock:
            if self._view is None:
                await self.fresh(self.services.read_model.parts())
                self._view = self.services.read_model.view()
            return self._view

    async def dry_ledger(self) -> DryRun:
        """The postings of this ``@dryRun`` document, over the request's one view."""
        assert self.dry_run, "only a @dryRun document decides in the API"
        if self._dry_run is None:
            self._dry_run = DryRun(self.services.read_model, await self.view())
        return self._dry_run

    async def reads(self) -> DryRun | None:
        """The dry run a read must see first, or None outside a ``@dryRun`` document."""
        return await self.dry_ledger() if self.dry_run else None

    def wrote(self) -> None:
        """A write of this request was acknowledged: later reads must include it."""
        self._snapshot = None
        self._view = None
        self._since = time.monotonic()
