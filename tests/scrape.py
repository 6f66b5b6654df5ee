"""Reading a process's /metrics, /healthz and /readyz over real HTTP, as Prometheus would."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

import httpx
from prometheus_client.parser import text_string_to_metric_families

WAIT_S = 60.0


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Scrape:
    """The samples of one scrape of /metrics."""

    def __init__(self, text: str) -> None:
        self.samples: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                self.samples[(sample.name, frozenset(sample.labels.items()))] = sample.value

    def value(self, name: str, **labels: str) -> float:
        """The sample with exactly these labels (0 when the series does not exist yet)."""
        return self.samples.get((name, frozenset(labels.items())), 0.0)

    def total(self, name: str, **labels: str) -> float:
        """The sum of every sample of ``name`` whose labels include these."""
        wanted = set(labels.items())
        return sum(value for (sample, found), value in self.samples.items()
                   if sample == name and wanted <= found)

    def series(self, name: str) -> dict[frozenset[tuple[str, str]], float]:
        """Every sample of ``name``, by its labels."""
        return {found: value for (sample, found), value in self.samples.items()
                if sample == name}


class Endpoint:
    """The metrics and health endpoints of one process."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def scrape(self) -> Scrape:
        """One scrape of /metrics."""
        response = httpx.get(f"{self.base_url}/metrics", timeout=10)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/plain")
        return Scrape(response.text)

    def status(self, path: str) -> int | None:
        """The status of GET ``path``, None while nothing listens."""
        try:
            return httpx.get(f"{self.base_url}{path}", timeout=10).status_code
        except httpx.TransportError:
            return None

    def ready(self) -> tuple[int, dict[str, object]]:
        """The status and body of /readyz."""
        response = httpx.get(f"{self.base_url}/readyz", timeout=10)
        body: dict[str, object] = response.json()
        return response.status_code, body

    def until(self, reached: Callable[[Scrape], bool], wait_s: float = WAIT_S) -> Scrape:
        """Scrape until ``reached`` holds (metrics move just after a batch commits), or
        until ``wait_s``; the last scrape either way, for the caller's assertions."""
        deadline = time.monotonic() + wait_s
        while True:
            scrape = self.scrape()
            if reached(scrape) or time.monotonic() > deadline:
                return scrape
            time.sleep(0.05)

    def readiness_seen(self, wait_s: float = WAIT_S) -> list[int | None]:
        """Each change of /readyz's status, polled from now until it answers 200."""
        seen: list[int | None] = []
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            status = self.status("/readyz")
            if not seen or seen[-1] != status:
                seen.append(status)
            if status == 200:
                break
            time.sleep(0.01)
        return seen
