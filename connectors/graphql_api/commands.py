"""The write side: commands go to Kafka, and each write waits for its result.

The API never decides anything itself: the processors (postings, voids) and the catalog desk
(journals, accounts, tran codes) do, and their answer comes back on the results topic. A
refusal becomes a ``RejectionError`` carrying the ledger's code; a result that does not
arrive in time becomes a ``ResultTimeoutError`` (the command stays in Kafka and will be decided).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from uuid import UUID

from confluent_kafka import KafkaException

from connectors.graphql_api.errors import KafkaUnavailableError, RejectionError
from connectors.graphql_api.results import ResultWaiter
from ledger_core import Enforcement
from ledger_core.catalog import CatalogKind
from streams.client import LedgerClient, Result
from streams.errors import CommandRefusedError

__all__ = ["CommandGateway"]


class CommandGateway:
    """Sends commands with a LedgerClient and awaits their results from a ResultWaiter."""

    def __init__(self, client: LedgerClient, results: ResultWaiter, timeout_s: float) -> None:
        self.client = client
        self.results = results
        self.timeout_s = timeout_s

    async def catalog(self, kind: CatalogKind, body: Mapping[str, Any]) -> Result:
        """Create or change a catalog entity; the APPLIED result carries it as written."""
        return await self._settle(lambda: self.client.send_catalog(kind, body))

    async def catalog_many(self, kind: CatalogKind, bodies: Sequence[Mapping[str, Any]]
                           ) -> list[Result | RejectionError]:
        """Send every catalog command before awaiting the first answer, in order: the one
        catalog-commands partition keeps that order, so the desk decides them as it would
        one after another, in batches. The results in the same order; a refused command's
        as its RejectionError."""
        try:
            command_ids = [self.client.send_catalog(kind, body) for body in bodies]
        except KafkaException as exc:
            raise KafkaUnavailableError(f"the commands could not be sent to Kafka: {exc}"
                                        ) from exc
        results = await asyncio.gather(*(self.results.wait(command_id, self.timeout_s)
                                         for command_id in command_ids))
        return [result if result.ok else RejectionError(
                    result.code or "rejected", result.message or "rejected", result.field,
                    result.value) for result in results]

    async def post(self, transaction_id: UUID, tran_code: str, params: Mapping[str, Any],
                   owner: UUID, version: int, override: Enforcement | None) -> Result:
        """Post through a tran code version, keyed by ``owner``; the POSTED result."""
        return await self._settle(lambda: self.client.send_post(
            transaction_id, tran_code, params, owner, version, override))

    async def void(self, void_of: UUID, owner: UUID) -> Result:
        """Void a posted transaction, keyed by its owner; the POSTED result of the void."""
        return await self._settle(lambda: self.client.send_void(void_of, owner))

    async def _settle(self, send: Callable[[], str]) -> Result:
        try:
            command_id = send()
        except CommandRefusedError as refused:
            raise RejectionError.of(refused.rejection) from None
        except KafkaException as exc:
            raise KafkaUnavailableError(f"the command could not be sent to Kafka: {exc}") from exc
        result = await self.results.wait(command_id, self.timeout_s)
        if not result.ok:
            raise RejectionError(result.code or "rejected", result.message or "rejected",
                                  result.field, result.value, detail=result.detail)
        return result

    def close(self) -> None:
        """Flush what was sent and release the producer (freed once it is collected)."""
        self.client.close()
        del self.client
