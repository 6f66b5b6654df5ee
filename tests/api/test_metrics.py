"""The API's metrics, liveness and readiness, scraped over HTTP from an instance serving a
real processor's ledger on the real broker."""

import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry

from connectors.graphql_api import ApiServer, run_tutorial
from connectors.graphql_api.errors import KafkaUnavailableError
from connectors.graphql_api.metrics import ApiMetrics
from connectors.graphql_api.observability import ApiObservability, ReadModelLag
from streams.errors import LedgerError
from tests.api.conftest import fresh_ledger
from tests.scrape import Endpoint, Scrape, free_port

REQUESTS = "ledger_api_requests_total"
LAG = "ledger_api_read_model_lag_records"


def _requests(scrape: Scrape) -> dict[tuple[str, str, str], float]:
    return {(labels["type"], labels["operation"], labels["outcome"]): value
            for labels, value in ((dict(found), value)
                                  for found, value in scrape.series(REQUESTS).items())}


def test_an_observed_api_is_ready_once_its_topics_exist_and_counts_each_request(
        kafka_bootstrap: str, tmp_path: Path) -> None:
    """Before any processor created the topics /readyz answers 503 naming them; once they
    exist and the read model has replayed them, 200. The tutorial's five documents, a
    refused posting and an invalid document are each counted by operation and outcome."""
    ledger = fresh_ledger(kafka_bootstrap, tmp_path)
    observability = ApiObservability(kafka_bootstrap, port=0)
    endpoint = Endpoint(observability.url)
    servers: list[ApiServer] = []
    opening = threading.Thread(daemon=True, target=lambda: servers.append(
        ApiServer(kafka_bootstrap, ledger.topics, observability=observability).start()))
    try:
        opening.start()
        # Until the opening thread first lists the topics, the reason is "not looked for yet".
        deadline = time.monotonic() + 30
        while "not looked for yet" in str(endpoint.ready()[1]) and time.monotonic() < deadline:
            time.sleep(0.1)
        status, body = endpoint.ready()
        assert status == 503 and "topics" in body["reasons"], body  # type: ignore[operator]
        assert ledger.topics.commands in body["reasons"]["topics"]  # type: ignore[index]
        assert endpoint.status("/healthz") == 200
        ledger.add_processor()
        opening.join(timeout=180)
        [server] = servers
        assert endpoint.readiness_seen()[-1] == 200

        run_tutorial(server.url)
        refused = httpx.post(server.url, timeout=60, json={
            "query": "mutation($p: TransactionInput!) { postTransaction(input: $p) "
                     "{ transactionId } }",
            "variables": {"p": {"transactionId": str(uuid.uuid4()), "tranCode": "NO_SUCH",
                                "params": {}}}}).json()
        assert refused["errors"][0]["extensions"]["rule"] == "tran_code_not_found", refused
        invalid = httpx.post(server.url, json={"query": "{ noSuchField }"}, timeout=60).json()
        assert invalid["errors"][0]["extensions"]["rule"] == "graphql_validation_failed"

        scrape = endpoint.scrape()
        assert _requests(scrape) == {
            ("mutation", "createJournal", "ok"): 1.0,
            ("mutation", "createTranCode", "ok"): 1.0,
            ("mutation", "postTransaction", "ok"): 1.0,
            # the set and three accounts in one document; the withdrawal and its queries
            ("mutation", "several", "ok"): 2.0,
            ("mutation", "postTransaction", "tran_code_not_found"): 1.0,
            ("unknown", "unknown", "graphql_validation_failed"): 1.0,
        }
        assert scrape.total("ledger_api_request_latency_seconds_count") == 7
        parts = len(server.read_model.parts())
        scrape = endpoint.until(lambda s: len(s.series(LAG)) == parts
                                and not any(s.series(LAG).values()))
        assert len(scrape.series(LAG)) == parts and set(scrape.series(LAG).values()) == {0.0}
        assert scrape.value("ledger_api_read_model_behind_seconds") == 0
        assert endpoint.ready() == (200, {"status": "ready"})
        servers.remove(server)
        server.stop()
        status, body = endpoint.ready()
        assert status == 503 and "read-model" in body["reasons"], body  # type: ignore[operator]
    finally:
        opening.join(timeout=180)
        for server in servers:
            server.stop()
        observability.close()
        ledger.close()


class _ReadModel:
    """Positions a test moves by hand."""

    def __init__(self) -> None:
        self.position = 0

    def parts(self) -> list[tuple[str, int]]:
        return [("x.balances", 0)]

    def stats(self) -> dict[str, Any]:
        return {"positions": {"x.balances[0]": self.position}}

    def wait_for_blocking(self, targets: dict[tuple[str, int], int], timeout_s: float) -> None:
        if any(self.position < end for end in targets.values()):
            raise LedgerError("behind")


class _Watermarks:
    """Ends a test sets by hand; None: Kafka does not answer."""

    def __init__(self) -> None:
        self.end: int | None = 0

    def ends_blocking(self, parts: list[tuple[str, int]]) -> dict[tuple[str, int], int]:
        if self.end is None:
            raise KafkaUnavailableError("no broker")
        return {part: self.end for part in parts}


def test_the_read_model_is_behind_by_the_age_of_the_oldest_ends_it_has_not_reached() -> None:
    """Behind is 0 while the read model reaches each fetch's ends; it grows with the age of
    the first fetch it has not reached, blocks readiness past 5 s, and a broker that does
    not answer blocks it too."""
    now = [100.0]
    read_model, watermarks = _ReadModel(), _Watermarks()
    lag = ReadModelLag(read_model, watermarks, ApiMetrics(CollectorRegistry()),  # type: ignore[arg-type]
                       clock=lambda: now[0])
    lag.sample()
    assert (lag.behind_s(), lag.reason()) == (0.0, None)
    watermarks.end = 10
    lag.sample()  # taken at 100
    now[0] = 103.0
    watermarks.end = 20
    lag.sample()  # taken at 103
    assert lag.behind_s() == 3.0 and lag.reason() is None
    now[0] = 106.0
    assert lag.behind_s() == 6.0
    assert "6.0 s behind" in (lag.reason() or "")
    read_model.position = 10  # reached the first fetch, not the second
    assert lag.behind_s() == 3.0 and lag.reason() is None
    read_model.position = 20
    assert lag.behind_s() == 0.0
    watermarks.end = None
    lag.sample()
    assert "cannot be fetched" in (lag.reason() or "")


def test_an_embedded_api_without_a_broker_gives_up_with_the_reason() -> None:
    """Nothing listens at the bootstrap: an API embedded in a program stops waiting for its
    topics after its timeout and says why, instead of waiting for ever."""
    with pytest.raises(LedgerError, match="topics were not ready after 3s: Kafka did not"):
        ApiServer(f"127.0.0.1:{free_port()}", topics_timeout_s=3.0)
