"""The API against a real broker and real processor processes, spoken to over HTTP."""

import gc
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.graphql_api import ApiServer, start_server
from streams.topics import Topics
from tests.streams.conftest import KafkaLedger

DOCUMENTS = Path(__file__).parent / "documents"


def document(name: str) -> str:
    """A GraphQL document from tests/api/documents, exactly as written there."""
    return (DOCUMENTS / f"{name}.graphql").read_text()


@dataclass
class LiveApi:
    """A ledger with a processor, an API instance serving it, and an HTTP client."""

    ledger: KafkaLedger
    server: ApiServer
    http: httpx.Client

    def send(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """POST a GraphQL request; the whole response body."""
        response = self.http.post(self.server.url, json={"query": query,
                                                         "variables": variables or {}})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def data(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """POST a GraphQL request that must succeed; its data."""
        body = self.send(query, variables)
        assert "errors" not in body, body["errors"]
        data: dict[str, Any] = body["data"]
        return data

    def error(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """POST a GraphQL request that must fail; its only error."""
        body = self.send(query, variables)
        assert len(body.get("errors", [])) == 1, body
        error: dict[str, Any] = body["errors"][0]
        return error


def live_api(ledger: KafkaLedger, **options: Any) -> Iterator[LiveApi]:
    """Start a processor and an API instance on ``ledger``; stop both afterwards."""
    ledger.add_processor()
    server = start_server(ledger.bootstrap, ledger.topics, **options)
    http = httpx.Client(timeout=60)
    try:
        yield LiveApi(ledger, server, http)
    finally:
        http.close()
        server.stop()
        ledger.close()
        # Kafka handles are freed when collected: free them now, so that none outlives the
        # session's broker and logs connection errors when it stops.
        ledger.clients.clear()
        del server
        gc.collect()


def fresh_ledger(bootstrap: str, home: Path) -> KafkaLedger:
    """A ledger with its own topics (4 partitions) on the test broker."""
    return KafkaLedger(bootstrap, Topics(prefix=f"a{uuid.uuid4().hex[:10]}", partitions=4), home)


@pytest.fixture
def api(kafka_bootstrap: str, tmp_path: Path) -> Iterator[LiveApi]:
    """An API on a ledger of its own, for tests that need fixed ids or an empty ledger."""
    yield from live_api(fresh_ledger(kafka_bootstrap, tmp_path))


@pytest.fixture(scope="module")
def shared_api(kafka_bootstrap: str,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApi]:
    """An API on a ledger shared by a module's tests; each test uses ids of its own."""
    yield from live_api(fresh_ledger(kafka_bootstrap, tmp_path_factory.mktemp("api")))
