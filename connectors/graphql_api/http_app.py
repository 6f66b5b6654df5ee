"""The ASGI application: GraphQL over HTTP at /graphql, and a health check at /health.

``POST /graphql`` takes ``{"query", "variables", "operationName"}`` as JSON and answers
``{"data", "errors"}`` (status 200 once the request is well-formed, 400 when it is not).
Request bodies are decoded with every non-integer number as an exact Decimal, so amounts in
variables never pass through a float. Every error carries ``extensions.code``; unexpected
errors are logged and answered as ``internal_error`` without their details.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from decimal import Decimal
from typing import Any

from graphql import GraphQLError, GraphQLSyntaxError

from connectors.graphql_api.context import RequestContext, Services
from connectors.graphql_api.errors import (
    BAD_REQUEST,
    GRAPHQL_PARSE_FAILED,
    GRAPHQL_VALIDATION_FAILED,
    INTERNAL_ERROR,
    ApiError,
)
from connectors.graphql_api.schema import LedgerSchema

__all__ = ["GraphQLApp"]

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

BODY_BYTES_MAX = 1 << 20


class BadRequestError(Exception):
    """The HTTP request is not a GraphQL request."""


class GraphQLApp:
    """Serves one schema over HTTP with the services of one API instance."""

    def __init__(self, schema: LedgerSchema, services: Services) -> None:
        self.schema = schema
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The ASGI entry point."""
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path, method = scope["path"].rstrip("/"), scope["method"]
        if path == "/graphql" and method == "POST":
            status, body = await self._graphql(receive)
        elif path == "/graphql":
            status, body = 405, _failure(BAD_REQUEST, "send GraphQL requests as POST "
                                                      "application/json")
        elif path == "/health" and method == "GET":
            status, body = 200, {"status": "ok", "readModel": self.services.read_model.stats()}
        else:
            status, body = 404, _failure(BAD_REQUEST, f"no route {method} {scope['path']}; "
                                                      "the endpoint is POST /graphql")
        await _respond(send, status, body)

    async def _graphql(self, receive: Receive) -> tuple[int, dict[str, Any]]:
        try:
            query, variables, operation = _request(await _read_body(receive))
        except BadRequestError as exc:
            return 400, _failure(BAD_REQUEST, str(exc))
        result = await self.schema.execute(
            query, variable_values=variables, operation_name=operation,
            context_value=RequestContext(self.services))
        body: dict[str, Any] = {"data": result.data}
        if result.errors:
            body["errors"] = [_formatted(error) for error in result.errors]
        return 200, body


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > BODY_BYTES_MAX:
            raise BadRequestError(f"the request body is larger than {BODY_BYTES_MAX} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _request(raw: bytes) -> tuple[str, dict[str, Any] | None, str | None]:
    try:
        document = json.loads(raw, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequestError(f"the body is not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise BadRequestError("the body must be a JSON object with a query")
    query = document.get("query")
    variables = document.get("variables")
    operation = document.get("operationName")
    if not isinstance(query, str) or not query.strip():
        raise BadRequestError("the body has no query")
    if variables is not None and not isinstance(variables, dict):
        raise BadRequestError("variables must be a JSON object")
    if operation is not None and not isinstance(operation, str):
        raise BadRequestError("operationName must be a string")
    return query, variables, operation


def _formatted(error: GraphQLError) -> dict[str, Any]:
    formatted: dict[str, Any] = dict(error.formatted)
    original = error.original_error
    if isinstance(original, ApiError):
        formatted["message"] = original.message
        formatted["extensions"] = dict(original.extensions or {})
    elif error.path is None:
        # No path: the request failed before execution (syntax, validation, variables).
        code = (GRAPHQL_PARSE_FAILED if isinstance(error, GraphQLSyntaxError)
                else GRAPHQL_VALIDATION_FAILED)
        formatted["extensions"] = {"code": code, "retriable": False,
                                   **(formatted.get("extensions") or {})}
    else:
        formatted["message"] = "internal server error"
        formatted["extensions"] = {"code": INTERNAL_ERROR, "retriable": False}
    return formatted


def _failure(code: str, message: str) -> dict[str, Any]:
    return {"errors": [{"message": message, "extensions": {"code": code, "retriable": False}}]}


def _encode(value: Any) -> str:
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


async def _respond(send: Send, status: int, body: dict[str, Any]) -> None:
    payload = json.dumps(body, default=_encode, separators=(",", ":")).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(payload)).encode())]})
    await send({"type": "http.response.body", "body": payload})
