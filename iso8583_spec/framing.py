"""Frames on a stream: a 2-byte big-endian length, then that many bytes of payload.

The reader keeps at most one partial frame, so a sender cannot make it hold more than
``max_size`` + 2 bytes; a frame declared empty or too large is refused as a value, its bytes
skipped as they arrive without being kept, and the stream goes on with the next frame.
"""

from __future__ import annotations

from dataclasses import dataclass

PREFIX_SIZE = 2
# Far above any message of these specs (with every field at its longest: 521 bytes in ascii,
# 401 in binary) and small enough that one connection's buffer stays trivial.
FRAME_SIZE_MAX = 8192
_PREFIX_MAX = 0xFFFF


@dataclass(frozen=True, slots=True)
class RefusedFrame:
    """A frame the reader would not take: its declared length and why (empty, too large)."""

    declared: int
    reason: str


def frame(payload: bytes, max_size: int = FRAME_SIZE_MAX) -> bytes:
    """``payload`` with its length prefix. Raises ValueError for an empty or oversized one."""
    if not 0 < len(payload) <= min(max_size, _PREFIX_MAX):
        raise ValueError(f"a frame's payload is 1 to {min(max_size, _PREFIX_MAX)} bytes, "
                         f"not {len(payload)}")
    return len(payload).to_bytes(PREFIX_SIZE, "big") + payload


class FrameReader:
    """Cuts a byte stream into payloads; feed it what the socket gives, in any pieces."""

    def __init__(self, max_size: int = FRAME_SIZE_MAX) -> None:
        if not 0 < max_size <= _PREFIX_MAX:
            raise ValueError(f"max_size is 1 to {_PREFIX_MAX}")
        self.max_size = max_size
        self._pending = bytearray()   # a partial prefix or a partial payload with its prefix
        self._skipping = 0            # bytes of a refused frame still to drop

    @property
    def buffered(self) -> int:
        """Bytes held for an incomplete frame: never more than ``max_size`` + 2."""
        return len(self._pending)

    def feed(self, data: bytes) -> list[bytes | RefusedFrame]:
        """The frames ``data`` completes, in order: each a payload, or a RefusedFrame where
        the sender declared a length of 0 or above ``max_size``."""
        out: list[bytes | RefusedFrame] = []
        view = memoryview(data)
        while view:
            if self._skipping:
                dropped = min(self._skipping, len(view))
                self._skipping -= dropped
                view = view[dropped:]
                continue
            if len(self._pending) < PREFIX_SIZE:
                taken = PREFIX_SIZE - len(self._pending)
                self._pending += view[:taken]
                view = view[taken:]
                if len(self._pending) == PREFIX_SIZE:
                    refused = self._check_prefix()
                    if refused is not None:
                        out.append(refused)
                continue
            wanted = PREFIX_SIZE + self._declared() - len(self._pending)
            self._pending += view[:wanted]
            view = view[wanted:]
            if len(self._pending) == PREFIX_SIZE + self._declared():
                out.append(bytes(self._pending[PREFIX_SIZE:]))
                self._pending.clear()
        return out

    def _declared(self) -> int:
        return int.from_bytes(self._pending[:PREFIX_SIZE], "big")

    def _check_prefix(self) -> RefusedFrame | None:
        declared = self._declared()
        if declared == 0:
            reason = "declared length 0"
        elif declared > self.max_size:
            reason = f"declared length {declared} above the maximum {self.max_size}"
        else:
            return None
        self._pending.clear()
        self._skipping = declared
        return RefusedFrame(declared=declared, reason=reason)
