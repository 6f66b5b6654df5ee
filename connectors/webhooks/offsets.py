"""Which offsets of a partition may be committed while events finish out of order.

Keys are delivered in parallel, so a later record of a partition may be done before an
earlier one. The committed offset is the lowest offset not yet done: everything below it was
delivered or dead-lettered, and a restart re-reads from it (at least once, never lost).
"""

from collections import deque


class PartitionOffsets:
    """The records of one partition read and not yet done, in offset order."""

    def __init__(self) -> None:
        self._open: deque[int] = deque()
        self._done: set[int] = set()
        self._next = -1

    def read(self, offset: int) -> None:
        """A record was read (offsets arrive in increasing order)."""
        assert offset >= self._next, f"offset {offset} read after {self._next - 1}"
        self._open.append(offset)
        self._next = offset + 1

    def done(self, offset: int) -> None:
        """The record at ``offset`` was delivered, dead-lettered, or wanted by nobody."""
        self._done.add(offset)
        while self._open and self._open[0] in self._done:
            self._done.discard(self._open.popleft())

    @property
    def committable(self) -> int | None:
        """The offset to commit: the lowest not done, else past the last read; None before
        the first read."""
        if self._open:
            return self._open[0]
        return None if self._next < 0 else self._next

    @property
    def outstanding(self) -> int:
        """Records read and not done."""
        return len(self._open)
