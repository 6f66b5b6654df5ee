"""The ASGI application: GraphQL over HTTP at /graphql, and a health check at /health.

Before a GraphQL request is read, the gate admits it (``auth.gate``): it names the tenant
whose services serve it and, with authentication on, who sent it; a request it refuses is
answered with its status (401 ``unauthenticated``, with ``WWW-Authenticate: Bearer``).

``POST /graphql`` takes ``{"query", "variables", "operationName"}`` as JSON and answers
``{"data", "errors"}`` (status 200 once the request is well-formed, 400 when it is not).
Request bodies are decoded with every non-integer number as an exact Decimal, so amounts in
variables never pass through a float, and only once their nesting is known to be within
``BODY_JSON_DEPTH_MAX`` (``json_too_deep`` otherwise). Every error carries ``extensions.code``;
unexpected errors are logged and answered as ``internal_error`` without their details.

A document runs in a task of its own, watched: when the client disconnects (ASGI
``http.disconnect``) the task is cancelled, and when it outlives its budget
(``execution_budget_s``) it is cancelled and answered ``query_timeout``. ``GET /health``
counts the documents executing and the ones cancelled either way.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from graphql import DocumentNode, GraphQLError, GraphQLSyntaxError, OperationDefinitionNode
from strawberry.exceptions import MissingQueryError
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult

from connectors.graphql_api import document_limits
from connectors.graphql_api.auth.gate import Admission, RefusedError
from connectors.graphql_api.context import RequestContext, Services
from connectors.graphql_api.errors import (
    BAD_REQUEST,
    GRAPHQL_PARSE_FAILED,
    GRAPHQL_VALIDATION_FAILED,
    INTERNAL_ERROR,
    JSON_TOO_DEEP,
    ApiError,
    QueryTimeoutError,
    error_extensions,
)
from connectors.graphql_api.schema import LedgerSchema
from ledger_core.input_bounds import json_text_depth

__all__ = ["GraphQLApp"]

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

BODY_BYTES_MAX = 1 << 20


class BadRequestError(Exception):
    """The HTTP request is not a GraphQL request."""

    code = BAD_REQUEST

    def __init__(self, message: str, **details: int) -> None:
        super().__init__(message)
        self.details = details


class ClientGoneError(Exception):
    """The client disconnected before it had sent its whole request."""


class JsonTooDeepError(BadRequestError):
    """The body nests objects and arrays deeper than the API decodes."""

    code = JSON_TOO_DEEP

    def __init__(self, depth: int) -> None:
        super().__init__(f"objects and arrays nest {depth:,} levels deep in the body; the API "
                         f"decodes bodies nested at most {document_limits.BODY_JSON_DEPTH_MAX:,}",
                         limit=document_limits.BODY_JSON_DEPTH_MAX, measured=depth)


@dataclass
class DocumentCounts:
    """What /health reports of the documents this app has run."""

    executing: int = 0
    disconnected: int = 0
    timed_out: int = 0

    def shown(self) -> dict[str, int]:
        """The counts, named as /health shows them."""
        return {"executing": self.executing, "cancelledOnDisconnect": self.disconnected,
                "cancelledOnTimeout": self.timed_out}


class Gate(Protocol):
    """Admits a request for a tenant (``auth.gate``)."""

    async def admit(self, headers: Mapping[str, str]) -> Admission:
        """The request's tenant and identity; ``RefusedError`` when it is not admitted."""
        ...


class GraphQLApp:
    """Serves one schema over HTTP with the services of each tenant of one API instance."""

    def __init__(self, schema: LedgerSchema, tenants: Mapping[str, Services], gate: Gate,
                 authenticated: bool) -> None:
        self.schema = schema
        self.tenants = tenants
        self.gate = gate
        self.authenticated = authenticated
        self.documents = DocumentCounts()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The ASGI entry point."""
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path, method = scope["path"].rstrip("/"), scope["method"]
        if path == "/graphql" and method == "POST":
            try:
                admission = await self.gate.admit(_headers(scope))
            except RefusedError as refused:
                challenge = [(b"www-authenticate", b"Bearer")] if refused.status == 401 else []
                await _respond(send, refused.status, _failure(refused.code, str(refused)),
                               challenge)
                return
            answer = await self._graphql(receive, admission)
            if answer is None:
                return  # the client has gone: nobody to answer
            status, body = answer
        elif path == "/graphql":
            status, body = 405, _failure(BAD_REQUEST, "send GraphQL requests as POST "
                                                      "application/json")
        elif path == "/health" and method == "GET":
            status, body = 200, self._health()
        else:
            status, body = 404, _failure(BAD_REQUEST, f"no route {method} {scope['path']}; "
                                                      "the endpoint is POST /graphql")
        await _respond(send, status, body)

    def _health(self) -> dict[str, Any]:
        """Status and documents; the read models' counts too unless authentication is on
        (they would tell anyone the size of each tenant's ledger)."""
        health: dict[str, Any] = {"status": "ok", "documents": self.documents.shown()}
        if not self.authenticated:
            models = {name: services.read_model.stats()
                      for name, services in self.tenants.items()}
            health["readModel"] = next(iter(models.values()))
            if len(models) > 1:
                health["tenants"] = {name: {"readModel": stats} for name, stats in models.items()}
        return health

    async def _graphql(self, receive: Receive,
                       admission: Admission) -> tuple[int, dict[str, Any]] | None:
        try:
            query, variables, operation = _request(await _read_body(receive))
        except BadRequestError as exc:
            return 400, _failure(exc.code, str(exc), **exc.details)
        except ClientGoneError:
            return None
        services = self.tenants[admission.tenant]
        budget_s = document_limits.execution_budget_s(query, operation,
                                                      services.gateway.timeout_s)
        execution = asyncio.ensure_future(self.schema.execute(
            query, variable_values=variables, operation_name=operation,
            context_value=RequestContext(services, admission.identity)))
        gone = asyncio.ensure_future(_disconnected(receive))
        self.documents.executing += 1
        try:
            done, _ = await asyncio.wait({execution, gone}, timeout=budget_s,
                                         return_when=asyncio.FIRST_COMPLETED)
            if execution not in done:
                execution.cancel()
                await asyncio.wait({execution})
        finally:
            gone.cancel()
            if not execution.done():  # this handler itself was cancelled
                execution.cancel()
            self.documents.executing -= 1
        if not execution.cancelled():
            return _answer(execution)  # (to a client that has gone, sending is a no-op)
        if gone in done:
            self.documents.disconnected += 1
            return None
        self.documents.timed_out += 1
        timeout = QueryTimeoutError(
            f"the document ran out of its execution budget of {budget_s:g}s and was "
            "cancelled. Writes it had sent are not lost (they are in Kafka and will be "
            "decided); re-sending it is safe")
        return 200, {"data": None, "errors": [_formatted(timeout)]}


def _answer(execution: asyncio.Future[ExecutionResult]) -> tuple[int, dict[str, Any]]:
    try:
        result = execution.result()
    except MissingQueryError:
        return 400, _failure(BAD_REQUEST, "the body has no query")
    except CannotGetOperationTypeError as exc:
        return 400, _failure(BAD_REQUEST, f"{exc.as_http_error_reason()}: name one of the "
                                          "document's operations in operationName")
    except InvalidOperationTypeError as exc:
        return 400, _failure(BAD_REQUEST, f"{exc.operation_type.value} operations are not "
                                          "served")
    except Exception:
        log.exception("the GraphQL execution failed")
        return 500, _failure(INTERNAL_ERROR, "internal server error")
    body: dict[str, Any] = {"data": result.data}
    if result.errors:
        body["errors"] = [_formatted(error) for error in result.errors]
    return 200, body


async def _disconnected(receive: Receive) -> None:
    """Return once the client has gone (the body has been read: nothing else can come)."""
    while (await receive())["type"] != "http.disconnect":
        pass


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
        if message["type"] == "http.disconnect":
            raise ClientGoneError
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > BODY_BYTES_MAX:
            raise BadRequestError(f"the request body is larger than {BODY_BYTES_MAX} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _request(raw: bytes) -> tuple[str, dict[str, Any] | None, str | None]:
    try:
        text = raw.decode(json.detect_encoding(raw), "surrogatepass")
    except (UnicodeDecodeError, LookupError):
        raise BadRequestError("the body is not JSON: it is not UTF-8 text") from None
    depth = json_text_depth(text)
    if depth > document_limits.BODY_JSON_DEPTH_MAX:
        raise JsonTooDeepError(depth)
    try:
        document = json.loads(text, parse_float=Decimal)
    except (ValueError, RecursionError) as exc:
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
    _check_operation(query, operation)
    return query, variables, operation


def _check_operation(query: str, name: str | None) -> None:
    """The document must hold an operation to run, the one operationName names if it names
    one. A document that does not parse, or is over a limit, is left to the schema, which
    answers it with its own code."""
    try:
        document = document_limits.checked_document(query)
    except GraphQLSyntaxError:
        return
    if not isinstance(document, DocumentNode):
        return
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if not operations:
        raise BadRequestError("the document has no operation to run, only fragments or type "
                              "definitions")
    if name is not None and not any(d.name is not None and d.name.value == name
                                    for d in operations):
        raise BadRequestError(f"operationName {name!r} names no operation of the document")


def _formatted(error: GraphQLError) -> dict[str, Any]:
    formatted: dict[str, Any] = dict(error.formatted)
    original = error if isinstance(error, ApiError) else error.original_error
    if isinstance(original, ApiError):
        formatted["message"] = original.message
        formatted["extensions"] = dict(original.extensions or {})
    elif error.path is None:
        # No path: the request failed before execution (syntax, validation, variables).
        code = (GRAPHQL_PARSE_FAILED if isinstance(error, GraphQLSyntaxError)
                else GRAPHQL_VALIDATION_FAILED)
        formatted["extensions"] = error_extensions(code, False,
                                                   **(formatted.get("extensions") or {}))
    else:
        formatted["message"] = "internal server error"
        formatted["extensions"] = error_extensions(INTERNAL_ERROR, False)
    return formatted


def _failure(code: str, message: str, **details: int) -> dict[str, Any]:
    return {"errors": [{"message": message, "extensions": error_extensions(code, False,
                                                                           **details)}]}


def _encode(value: Any) -> str:
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def _headers(scope: Scope) -> dict[str, str]:
    """The request's headers by lower-case name (the last of a repeated one)."""
    return {name.decode("latin-1").lower(): value.decode("latin-1")
            for name, value in scope.get("headers", [])}


async def _respond(send: Send, status: int, body: dict[str, Any],
                   headers: list[tuple[bytes, bytes]] | None = None) -> None:
    payload = json.dumps(body, default=_encode, separators=(",", ":")).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(payload)).encode()),
                            *(headers or [])]})
    await send({"type": "http.response.body", "body": payload})
