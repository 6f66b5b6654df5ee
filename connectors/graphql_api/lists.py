"""List queries in Twisp's shape: ``accounts``, ``journals``, ``tranCodes`` and
``transactions`` by ``index``, filtered by ``where``, a page of ``first`` after a cursor.

Each is read from one of the read model's indexes (``indexes``, ``ReadModel.listed``) in
the request's view: the catalog as it is once the read model has caught up, and the
transactions the view sees. Every ``where`` condition must hold; the one on the index's own
field picks the range that is read, the others filter it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from connectors.graphql_api.context import RequestContext
from connectors.graphql_api.enums import SortOrder
from connectors.graphql_api.errors import BAD_REQUEST, ApiError
from connectors.graphql_api.indexes import Condition, CursorError
from connectors.graphql_api.objects import PAGE_MAX, Connection, Edge, PageInfo

__all__ = ["conditions", "listing"]

Node = TypeVar("Node")


def conditions(where: object | None, fields: dict[str, str]) -> dict[str, Condition]:
    """The conditions of a filter input, by index name (``fields``: attribute -> index)."""
    if where is None:
        return {}
    found = {index: getattr(where, attribute) for attribute, index in fields.items()}
    return {index: value.condition() for index, value in found.items() if value is not None}


async def listing(context: RequestContext, kind: str, index: str,
                  where: dict[str, Condition], first: int, after: str | None,
                  sort: SortOrder | None, node: Callable[[Any], Node]) -> Connection[Node]:
    """A page of ``kind`` read by ``index`` in the request's view."""
    if not 0 <= first <= PAGE_MAX:
        raise ApiError(BAD_REQUEST, f"first must be between 0 and {PAGE_MAX}, got {first}")
    view = await context.view()
    try:
        listed = context.services.read_model.listed(kind, index, where, after, first,
                                                    sort is SortOrder.DESC, view)
    except CursorError as exc:
        raise ApiError(BAD_REQUEST, str(exc)) from None
    edges = [Edge(cursor=cursor, node=node(record)) for cursor, record in listed.records]
    return Connection(nodes=[edge.node for edge in edges], edges=edges, page_info=PageInfo(
        has_previous_page=after is not None, has_next_page=listed.more,
        start_cursor=edges[0].cursor if edges else None,
        end_cursor=edges[-1].cursor if edges else None))
