"""What a ledger process tells its operator over HTTP: Prometheus metrics, liveness, readiness.

One small HTTP server per process (prometheus-client's threading WSGI server, on loopback
unless told otherwise) answers:

- ``GET /metrics``: the process's registry in the Prometheus text format;
- ``GET /healthz``: 200 while the process serves at all (liveness);
- ``GET /readyz``: 200 when nothing blocks readiness, else 503 with what does, as JSON.

Readiness is a set of named conditions (``Readiness``): a component blocks it under its own
name while it cannot serve (a processor restoring its partitions, a read model catching up)
and clears it when it can; probes are asked at each request. The processor, the API and the
sinks share this module, so every process answers health checks the same way.
"""

from __future__ import annotations

import argparse
import json
import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

from prometheus_client import CollectorRegistry, make_wsgi_app
from prometheus_client.exposition import ThreadingWSGIServer
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

from streams.log_format import LOG_FORMATS

__all__ = ["ObservabilityServer", "Readiness", "add_observability_options", "process_registry",
           "serve_observability"]

log = logging.getLogger(__name__)

# A probe answers None when its part is ready, else why not.
Probe = Callable[[], str | None]
StartResponse = Callable[[str, list[tuple[str, str]]], Any]


def add_observability_options(parser: argparse.ArgumentParser) -> None:
    """``--metrics-port``, ``--metrics-host`` and ``--log-format``, as every process has them."""
    parser.add_argument("--metrics-port", type=int, default=None, metavar="PORT",
                        help="serve Prometheus metrics at /metrics, and /healthz and /readyz, "
                             "on this port (0: any free one; default: not served)")
    parser.add_argument("--metrics-host", default="127.0.0.1",
                        help="address the metrics port listens on (default: loopback)")
    parser.add_argument("--log-format", choices=LOG_FORMATS, default="text",
                        help="text lines (default) or one JSON object per line")


def process_registry() -> CollectorRegistry:
    """A registry of its own, with the process's CPU, memory, file and GC metrics."""
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    return registry


class Readiness:
    """Named conditions that keep the process from being ready; none means ready.

    ``block``/``clear`` are for states a component enters and leaves (restoring,
    rebalancing); ``probe`` for conditions best measured when asked (how far behind a
    reader is). Transitions are logged, so a log shows when and why a process was not ready.
    Thread-safe: components set conditions from their own threads.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._blocked: dict[str, str] = {}
        self._probes: dict[str, Probe] = {}

    def block(self, name: str, reason: str) -> None:
        """``name`` keeps the process from being ready, because of ``reason``."""
        with self._lock:
            changed = self._blocked.get(name) != reason
            self._blocked[name] = reason
        if changed:
            log.info("not ready (%s): %s", name, reason, extra={"readiness": name})

    def clear(self, name: str) -> None:
        """``name`` no longer keeps the process from being ready."""
        with self._lock:
            reason = self._blocked.pop(name, None)
        if reason is not None:
            log.info("ready as far as %s goes", name, extra={"readiness": name})

    def probe(self, name: str, probe: Probe) -> None:
        """Ask ``probe`` at every readiness check; a reason it answers blocks readiness."""
        with self._lock:
            self._probes[name] = probe

    def reasons(self) -> dict[str, str]:
        """What keeps the process from being ready now, by name (empty: ready)."""
        with self._lock:
            reasons = dict(self._blocked)
            probes = list(self._probes.items())
        for name, probe in probes:
            try:
                reason = probe()
            except Exception as exc:  # a probe that fails says the process is not ready
                reason = f"the check failed: {type(exc).__name__}: {exc}"
            if reason is not None:
                reasons[name] = reason
        return reasons


class _QuietHandler(WSGIRequestHandler):
    """Scrapes and health checks arrive every few seconds: they are not logged."""

    def log_message(self, format: str, *args: Any) -> None:
        """Log nothing."""


class ObservabilityServer:
    """The metrics and health endpoints of one process, served in a daemon thread."""

    def __init__(self, registry: CollectorRegistry, readiness: Readiness, host: str,
                 port: int) -> None:
        self.readiness = readiness
        self._metrics = make_wsgi_app(registry)
        self._server = make_server(host, port, self._app, ThreadingWSGIServer,
                                   handler_class=_QuietHandler)
        address = self._server.server_address
        self.host, self.port = str(address[0]), int(address[1])
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        name="observability-http", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        """The server's base URL (``/metrics``, ``/healthz`` and ``/readyz`` below it)."""
        return f"http://{self.host}:{self.port}"

    def _app(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "").rstrip("/")
        if path == "/metrics":
            body: Iterable[bytes] = self._metrics(environ, start_response)
            return body
        if environ.get("REQUEST_METHOD") != "GET":
            return _json(start_response, "405 Method Not Allowed", {"error": "use GET"})
        if path == "/healthz":
            return _json(start_response, "200 OK", {"status": "alive"})
        if path == "/readyz":
            reasons = self.readiness.reasons()
            if reasons:
                return _json(start_response, "503 Service Unavailable",
                             {"status": "not ready", "reasons": reasons})
            return _json(start_response, "200 OK", {"status": "ready"})
        return _json(start_response, "404 Not Found",
                     {"error": "no such path: /metrics, /healthz and /readyz are served"})

    def close(self) -> None:
        """Stop serving and release the port."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)


def _json(start_response: StartResponse, status: str, body: dict[str, Any]) -> list[bytes]:
    payload = json.dumps(body, sort_keys=True).encode()
    start_response(status, [("Content-Type", "application/json"),
                            ("Content-Length", str(len(payload)))])
    return [payload]


def serve_observability(registry: CollectorRegistry, readiness: Readiness, port: int,
                        host: str = "127.0.0.1") -> ObservabilityServer:
    """Serve ``/metrics``, ``/healthz`` and ``/readyz`` on ``host:port`` (port 0: any free
    one) in a daemon thread; the handle's ``url`` names it and ``close()`` stops it."""
    server = ObservabilityServer(registry, readiness, host, port)
    log.info("serving metrics and health checks at %s (/metrics, /healthz, /readyz)",
             server.url)
    return server
