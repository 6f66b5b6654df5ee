"""Taking turns on the event loop: a request's resolvers hand the loop back every
``QUERY_TURN_S``, so that no request waits long behind another's CPU work.

graphql-core resolves every field it can reach without awaiting in one go, and starts every
awaitable field of a selection set in the same turn of the loop; without turns a document
of many fields would hold the loop, and every other request (``/health`` included), until
it is done.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Generator
from inspect import isawaitable
from time import perf_counter
from typing import Any

from graphql import GraphQLResolveInfo, get_named_type, is_leaf_type
from strawberry.extensions import SchemaExtension
from strawberry.utils.await_maybe import AwaitableOrValue

__all__ = ["QUERY_TURN_S", "YieldToLoop"]

# Execution: a request's resolvers run this long before the event loop polls its sockets
# again. A resolver call costs from 2 µs (a scalar) to 200 µs (a transaction read), so a
# number of calls per turn would give either too little or too much.
QUERY_TURN_S = 0.002


class YieldToLoop(SchemaExtension):
    """Makes a request take turns with the others on the event loop.

    graphql-core resolves every field it can reach without awaiting in one go, and starts
    every awaitable field of a selection set in the same turn of the loop, so a document of
    many fields would hold the loop, and every other request, until it is done. Here a
    request's resolvers run for QUERY_TURN_S at a time (``_Turns``): past that, its
    awaitable fields, its fields of object type and the items of its long lists wait for a
    later turn, and the loop polls its sockets in between. The waits are also where a
    cancelled document stops.
    """

    def __init__(self) -> None:
        super().__init__()
        self._turns = _Turns()

    def resolve(self, _next: Callable[..., Any], root: Any, info: GraphQLResolveInfo[Any],
                *args: str, **kwargs: Any) -> AwaitableOrValue[object]:
        """Resolve the field now, or in a later turn once this request's turn is spent."""
        turns = self._turns
        if turns.spent() and not is_leaf_type(get_named_type(info.return_type)):
            return _Later(turns, _next, root, info, args, kwargs)
        value: AwaitableOrValue[object] = _next(root, info, *args, **kwargs)
        if isawaitable(value):
            return _InTurn(turns, value)
        return _items_in_turns(turns, value)


class _Turns:
    """One request's share of the event loop.

    A turn lasts QUERY_TURN_S. Work that finds it spent waits; each later turn (one per pass
    of the loop) starts some of the waiting: twice as many as the last time when the last
    pass of the loop took less than half a turn, half as many when it took longer than a
    turn, at least one. The newest waiting start first: they are the deepest fields, and
    finishing them first keeps the work in progress, and the garbage collector's work with
    it, small (starting the oldest first doubled a heavy document's time).
    """

    __slots__ = ("began", "last_pass", "releasing", "room", "waiting")

    def __init__(self) -> None:
        self.began: float | None = None
        self.last_pass: float | None = None
        self.room = 1
        self.waiting: deque[asyncio.Future[None]] = deque()
        self.releasing = False

    def spent(self) -> bool:
        """Whether this request has had the loop for a whole turn."""
        now = perf_counter()
        if self.began is None:
            self.began = now
        return now - self.began > QUERY_TURN_S

    async def take(self) -> None:
        """Return at once while the turn lasts, else once a later turn starts this work with
        time left: work started in a turn that the work started before it has spent waits
        for the next one, so that no pass of the loop runs much longer than a turn, however
        much work a turn starts."""
        while self.spent():
            loop = asyncio.get_running_loop()
            future: asyncio.Future[None] = loop.create_future()
            self.waiting.append(future)
            if not self.releasing:
                self.releasing = True
                loop.call_soon(self._next_turn, loop)
            await future

    def _next_turn(self, loop: asyncio.AbstractEventLoop) -> None:
        now = perf_counter()
        if self.last_pass is not None:
            took = now - self.last_pass  # the last pass of the loop: ours and everyone's
            if took < QUERY_TURN_S / 2:
                self.room = min(2 * self.room, _ROOM_MAX)
            elif took > QUERY_TURN_S:
                self.room = max(1, self.room // 2)
        self.began = now
        started = 0
        while self.waiting and started < self.room:
            future = self.waiting.pop()
            if not future.done():  # work of a cancelled document is not started
                future.set_result(None)
                started += 1
        if self.waiting:
            self.last_pass = now
            loop.call_soon(self._next_turn, loop)
        else:
            self.releasing = False
            self.last_pass = None


_ROOM_MAX = 1024

# Lists up to this long are completed in one go; longer ones take turns item by item.
LIST_ITEMS_AT_ONCE = 8


def _items_in_turns(turns: _Turns, value: object) -> object:
    if isinstance(value, list | tuple) and len(value) > LIST_ITEMS_AT_ONCE:
        return _items(turns, value)
    return value


async def _items(turns: _Turns, items: list[Any] | tuple[Any, ...]) -> AsyncIterator[Any]:
    for item in items:
        if turns.spent():
            await turns.take()
        yield item


class _InTurn:
    """A resolver's awaitable, awaited once the request has a turn.

    An object rather than a coroutine: when a cancelled document never awaits it, it closes
    the resolver's coroutine instead of leaving Python to warn that nobody awaited it.
    """

    __slots__ = ("awaited", "turns", "value")

    def __init__(self, turns: _Turns, value: Awaitable[object]) -> None:
        self.turns, self.value, self.awaited = turns, value, False

    def __await__(self) -> Generator[Any, None, object]:
        return self._in_turn().__await__()

    async def _in_turn(self) -> object:
        await self.turns.take()
        self.awaited = True
        return _items_in_turns(self.turns, await self.value)

    def __del__(self) -> None:
        if not self.awaited and isinstance(self.value, Coroutine):
            self.value.close()


class _Later:
    """A field resolved once the request has a turn (an object, see ``_InTurn``)."""

    __slots__ = ("args", "info", "kwargs", "resolve", "root", "turns")

    def __init__(self, turns: _Turns, resolve: Callable[..., Any], root: Any,
                 info: GraphQLResolveInfo[Any], args: tuple[str, ...],
                 kwargs: dict[str, Any]) -> None:
        self.turns, self.resolve, self.root, self.info = turns, resolve, root, info
        self.args, self.kwargs = args, kwargs

    def __await__(self) -> Generator[Any, None, object]:
        return self._later().__await__()

    async def _later(self) -> object:
        await self.turns.take()
        value = self.resolve(self.root, self.info, *self.args, **self.kwargs)
        if isawaitable(value):
            value = await value
        return _items_in_turns(self.turns, value)
