"""One event in flight per ordering key, every key in parallel.

Each key with events waiting has a lane: a queue and one task that delivers its head, then
the next. A key whose endpoint is slow or backing off holds only its own lane.
"""

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable

from connectors.webhooks.delivery import Outcome
from connectors.webhooks.events import Event

LaneKey = tuple[str, int, str]


class Lanes:
    """Ordered delivery per (topic, partition, ordering key)."""

    def __init__(self, deliver: Callable[[Event], Awaitable[Outcome]],
                 on_done: Callable[[Event, Outcome], None]) -> None:
        self._deliver = deliver
        self._on_done = on_done
        self._queues: dict[LaneKey, deque[Event]] = {}
        self._tasks: dict[LaneKey, asyncio.Task[None]] = {}
        self.pending = 0
        self._idle = asyncio.Event()
        self._idle.set()
        # Set when an event ends DISABLED: no lane starts another delivery.
        self.halted = False

    def submit(self, event: Event) -> None:
        """Queue the event behind the earlier events of its key."""
        key = (event.topic, event.partition, event.ordering_key)
        self.pending += 1
        self._idle.clear()
        queue = self._queues.get(key)
        if queue is not None:
            queue.append(event)
            return
        self._queues[key] = deque([event])
        self._tasks[key] = asyncio.create_task(self._run(key))

    async def _run(self, key: LaneKey) -> None:
        queue = self._queues[key]
        try:
            while queue and not self.halted:
                event = queue[0]
                outcome = await self._deliver(event)
                if outcome is Outcome.DISABLED:
                    self.halted = True
                queue.popleft()
                self.pending -= 1
                self._on_done(event, outcome)
        finally:
            if self._queues.get(key) is queue:
                self.pending -= len(queue)
                del self._queues[key]
                del self._tasks[key]
            if not self._queues:
                self._idle.set()

    def drop_partitions(self, partitions: set[tuple[str, int]]) -> None:
        """Cancel the lanes of partitions this process no longer owns: their events are
        not done and will be read again by the new owner."""
        for key, task in list(self._tasks.items()):
            if key[:2] in partitions:
                task.cancel()

    async def close(self) -> None:
        """Cancel every lane and wait for the tasks to end."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def drained(self) -> None:
        """Wait until no event is left."""
        await self._idle.wait()
