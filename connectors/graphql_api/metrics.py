"""The API's Prometheus metrics: requests by operation and outcome, their latency, and how
far the read model is behind Kafka.

``MeteredApp`` wraps the ASGI application and measures every ``POST /graphql`` from its
first byte received to its last byte sent. A request is labelled with its operation type
and its root field (``several`` when it has more than one) and with its outcome: ``ok``,
the ``extensions.rule`` of its first error, or ``client_gone``. Field names are labels only
once execution has reached a resolver, so they are fields the schema has; a request refused
before (unparsable, over a limit, not valid) is labelled ``unknown``, and no client can
make up new series. ``docs/operations.md`` describes every metric.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLSyntaxError,
    OperationDefinitionNode,
)
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from connectors.graphql_api import document_limits

__all__ = ["ApiMetrics", "MeteredApp"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Asgi = Callable[[Scope, Receive, Send], Awaitable[None]]

# Reads answer in milliseconds; mutations wait for the processor, up to the command timeout.
LATENCY_BUCKETS = (0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
                   30.0, 60.0)
UNKNOWN = "unknown"
SEVERAL = "several"
# Bodies past the API's limit are refused unread; the label needs no more of them.
BODY_KEPT_MAX = 1 << 20


class ApiMetrics:
    """Every metric of one API instance, on ``registry``."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "ledger_api_requests", "GraphQL requests answered, by operation type, root field "
            "and outcome (ok or the first error's code)", ["type", "operation", "outcome"],
            registry=registry)
        self.latency = Histogram(
            "ledger_api_request_latency_seconds", "From a GraphQL request's first byte to its "
            "answer's last", ["type", "operation"], registry=registry, buckets=LATENCY_BUCKETS)
        self.read_model_lag = Gauge(
            "ledger_api_read_model_lag_records", "Records of each partition the read model has "
            "not read yet, as of the last high watermarks fetched", ["topic", "partition"],
            registry=registry)
        self.read_model_behind = Gauge(
            "ledger_api_read_model_behind_seconds", "Age of the oldest partition ends the read "
            "model has not reached (0: it has read everything up to the previous fetch)",
            registry=registry)

    def request(self, body: bytes, status: int | None, answer: bytes, seconds: float) -> None:
        """Count one request from its body and its answer (``status`` None: none sent)."""
        outcome, executed = _outcome(status, answer)
        kind, operation = _operation(body) if executed else (UNKNOWN, UNKNOWN)
        self.requests.labels(kind, operation, outcome).inc()
        self.latency.labels(kind, operation).observe(seconds)


class MeteredApp:
    """The ASGI application ``app``, with every ``POST /graphql`` measured."""

    def __init__(self, app: Asgi, metrics: ApiMetrics) -> None:
        self._app = app
        self._metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The ASGI entry point."""
        if scope["type"] != "http" or scope["method"] != "POST" \
                or scope["path"].rstrip("/") != "/graphql":
            await self._app(scope, receive, send)
            return
        started = time.perf_counter()
        body: list[bytes] = []
        kept = 0
        status: int | None = None
        answer: list[bytes] = []

        async def receiving() -> Message:
            nonlocal kept
            message = await receive()
            chunk = message.get("body", b"")
            if chunk and kept < BODY_KEPT_MAX:
                body.append(chunk)
                kept += len(chunk)
            return message

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif message["type"] == "http.response.body":
                answer.append(message.get("body", b""))
            await send(message)

        try:
            await self._app(scope, receiving, sending)
        finally:
            self._metrics.request(b"".join(body), status, b"".join(answer),
                                  time.perf_counter() - started)


def _outcome(status: int | None, answer: bytes) -> tuple[str, bool]:
    """The request's outcome, and whether its execution reached a resolver."""
    if status is None:
        return "client_gone", False
    if b'"errors"' not in answer:
        return "ok", True
    try:
        errors = json.loads(answer).get("errors") or []
        first = errors[0]
        code = str(first.get("extensions", {}).get("rule") or UNKNOWN)
    except (ValueError, AttributeError, IndexError, TypeError):
        return UNKNOWN, False
    return code, first.get("path") is not None


def _operation(body: bytes) -> tuple[str, str]:
    """The operation type and root field the request ran (its document was valid)."""
    try:
        request = json.loads(body)
        document = document_limits.checked_document(request["query"])
    except (ValueError, KeyError, TypeError, GraphQLSyntaxError):
        return UNKNOWN, UNKNOWN
    if not isinstance(document, DocumentNode):
        return UNKNOWN, UNKNOWN
    name = request.get("operationName")
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)
                  and (name is None or (d.name is not None and d.name.value == name))]
    if len(operations) != 1:
        return UNKNOWN, UNKNOWN
    [operation] = operations
    selections = operation.selection_set.selections
    fields = [s for s in selections if isinstance(s, FieldNode)]
    roots = {f.name.value for f in fields} - {"__typename"}
    field = roots.pop() if len(roots) == 1 and len(fields) == len(selections) else SEVERAL
    return operation.operation.value, field
