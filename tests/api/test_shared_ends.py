"""Concurrent reads share partition-end fetches, and none uses a fetch sent before it began."""

import asyncio
import time

from connectors.graphql_api.read_model import Part
from connectors.graphql_api.watermarks import SharedEnds, Watermarks

PARTS: list[Part] = [("t.balances", 0)]


class CountingEnds(Watermarks):
    """Watermarks whose ends are the number of fetches sent so far, after a delay."""

    def __init__(self) -> None:
        self.sent: list[float] = []

    async def ends(self, parts: object) -> dict[Part, int]:
        """One fetch: note when it was sent, answer after 20 ms."""
        self.sent.append(time.monotonic())
        number = len(self.sent)
        await asyncio.sleep(0.02)
        return {PARTS[0]: number}


def test_reads_share_fetches_sent_after_they_began() -> None:
    """Fifty reads arriving during one fetch share the next one; each read's fetch was sent
    after the read began."""

    async def scenario() -> tuple[CountingEnds, list[tuple[float, int]]]:
        source = CountingEnds()
        shared = SharedEnds(source, PARTS)

        async def read() -> tuple[float, int]:
            began = time.monotonic()
            ends = await shared.since(began)
            return began, ends[PARTS[0]]

        first = asyncio.ensure_future(read())
        await asyncio.sleep(0.005)
        later = [asyncio.ensure_future(read()) for _ in range(50)]
        return source, [await first, *[await task for task in later]]

    source, answers = asyncio.run(scenario())
    assert len(source.sent) == 2
    for began, fetch in answers:
        assert source.sent[fetch - 1] >= began
