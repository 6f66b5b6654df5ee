"""The errors the API returns, in standard GraphQL form with machine-readable codes.

Every error a client can act on carries Twisp's ``extensions.code`` (``twisp_codes``) and,
beside it, the rule the request broke as ``extensions.rule``: the ledger's own rejection
code (``entries_must_balance``, ``transaction_id_duplicate``, ...) when the ledger refused
the command, or one of the API's codes below. ``extensions.retriableError`` tells a client
whether sending the same request again may succeed; re-sending a posting with the same
``transactionId`` is always safe, because the transaction id is the idempotency key.

    ApiError                      a GraphQLError with extensions {code, rule, retriableError, ...}
     ├── RejectionError          the ledger refused the command (rule = the rejection code)
     ├── ResultTimeoutError           no result arrived in time; the command is not lost
     ├── ReadModelTimeoutError         the read model did not catch up in time
     ├── KafkaUnavailableError         Kafka could not be reached
     ├── DocumentLimitError            the document asks for more than the API serves
     │                                 (too large, too deep, too many aliases or fields,
     │                                 too costly), refused before it is validated
     ├── QueryTimeoutError             the document ran out of its execution budget
     └── ForbiddenError                the caller's policies do not allow the action

Requests that fail before any resolver runs get the rule ``bad_request`` (not a GraphQL request),
``json_too_deep`` (a body nested deeper than the API decodes), ``graphql_parse_failed``,
one of the document limits' codes, or ``graphql_validation_failed``; a bug gets
``internal_error``. With authentication on, a request without accepted credentials gets
HTTP 401 ``unauthenticated``.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError

from connectors.graphql_api.twisp_codes import twisp_code
from ledger_core import Rejection

COMMAND_TIMEOUT = "command_timeout"
READ_MODEL_TIMEOUT = "read_model_timeout"
KAFKA_UNAVAILABLE = "kafka_unavailable"
BAD_REQUEST = "bad_request"
GRAPHQL_PARSE_FAILED = "graphql_parse_failed"
GRAPHQL_VALIDATION_FAILED = "graphql_validation_failed"
INTERNAL_ERROR = "internal_error"
JSON_TOO_DEEP = "json_too_deep"
QUERY_TOO_LARGE = "query_too_large"
QUERY_TOO_DEEP = "query_too_deep"
QUERY_HAS_TOO_MANY_FIELDS = "query_has_too_many_fields"
QUERY_HAS_TOO_MANY_ALIASES = "query_has_too_many_aliases"
QUERY_TOO_COSTLY = "query_too_costly"
QUERY_TIMEOUT = "query_timeout"
UNAUTHENTICATED = "unauthenticated"
FORBIDDEN = "forbidden"


class ApiError(GraphQLError):
    """An expected failure, reported to the client with its code and message."""

    def __init__(self, code: str, message: str, *, retriable: bool = False,
                 **details: Any) -> None:
        super().__init__(message, extensions=error_extensions(code, retriable, **details))
        self.code = code


def error_extensions(rule: str, retriable: bool, **details: Any) -> dict[str, Any]:
    """An error's extensions: Twisp's ``code``, the ledger's ``rule`` beside it, whether
    the same request may succeed later (``retriableError``), and any details given."""
    extensions: dict[str, Any] = {"code": twisp_code(rule), "rule": rule,
                                  "retriableError": retriable}
    extensions.update({key: value for key, value in details.items() if value is not None})
    return extensions


class RejectionError(ApiError):
    """The ledger refused the command: the rule it broke, the field and the value; with
    ``exception``, Twisp's record of a velocity breach (``extensions.exception``)."""

    def __init__(self, code: str, message: str, field: str | None = None,
                 value: str | None = None, *, detail: dict[str, str] | None = None,
                 exception: dict[str, Any] | None = None) -> None:
        super().__init__(code, message, field=field, value=value, exception=exception)
        self.field, self.value, self.detail = field, value, detail

    @classmethod
    def of(cls, rejection: Rejection) -> RejectionError:
        """The error that answers the ledger's ``rejection``."""
        return cls(rejection.code.value, rejection.message, rejection.field, rejection.value,
                   detail=rejection.detail)


class ResultTimeoutError(ApiError):
    """The command's result did not arrive in time; re-sending the same id is safe."""

    def __init__(self, message: str) -> None:
        super().__init__(COMMAND_TIMEOUT, message, retriable=True)


class ReadModelTimeoutError(ApiError):
    """The read model did not reach the offsets a read must see, in time."""

    def __init__(self, message: str) -> None:
        super().__init__(READ_MODEL_TIMEOUT, message, retriable=True)


class KafkaUnavailableError(ApiError):
    """Kafka did not answer; nothing is known to have been written."""

    def __init__(self, message: str) -> None:
        super().__init__(KAFKA_UNAVAILABLE, message, retriable=True)


class DocumentLimitError(ApiError):
    """The document is over one of the API's limits; it was refused before it ran.

    ``extensions.limit`` is the limit and ``extensions.measured`` what the document
    measured; sending the same document again is refused again.
    """

    def __init__(self, code: str, message: str, *, limit: int, measured: int) -> None:
        super().__init__(code, message, limit=limit, measured=measured)


class QueryTimeoutError(ApiError):
    """The document ran out of its execution budget and was cancelled.

    Writes it had already sent are not lost (they are in Kafka and will be decided), so
    re-sending it is safe: a posting's transactionId is its idempotency key.
    """

    def __init__(self, message: str) -> None:
        super().__init__(QUERY_TIMEOUT, message, retriable=True)


class ForbiddenError(ApiError):
    """The caller's policies do not allow the action on the resource: no ALLOW matches, or
    a DENY does. Nothing was written."""

    def __init__(self, action: str, resource: str) -> None:
        super().__init__(FORBIDDEN, f"{action} on {resource} is not allowed for this client",
                         action=action, resource=resource)
