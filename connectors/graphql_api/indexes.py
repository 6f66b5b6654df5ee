"""The read model's indexes for list queries: each field a list query can be read by, kept in
order as records arrive, with Twisp's filter operators and cursor pagination.

An index holds ``(key, id)`` pairs in a ``SortedList``, so adding or moving a record and
finding where a range starts cost O(log n), and a page reads only what it returns (plus the
records a filter on another field skips). Keys are the field's text (ids in their canonical
form, statuses by name); a record without a value for the field (no ``externalId``) is not
in that index. Ties between equal keys go by id, so every pair, and every cursor, is unique.

``like`` follows SQL: ``%`` any run of characters, ``_`` any one. A pattern that starts with
text before its first wildcard is read as the range of that prefix; any other pattern is
matched against every key of the range.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sortedcontainers import SortedList

__all__ = ["Condition", "CursorError", "SortedIndex", "decode_cursor", "encode_cursor", "page"]

# Above every character a key can hold: the upper end of a prefix's range and of a key's ids.
_TOP = "\U0010ffff"


class CursorError(ValueError):
    """A cursor this API did not hand out."""


@dataclass(frozen=True)
class Condition:
    """Twisp's FilterValue on one field: ``eq``, ``like``, ``lt``, ``lte``, ``gt``, ``gte``,
    ``between`` (both ends included). Several operators given must all hold."""

    eq: str | None = None
    like: str | None = None
    lt: str | None = None
    lte: str | None = None
    gt: str | None = None
    gte: str | None = None
    between: tuple[str, str] | None = None

    def bounds(self) -> tuple[str | None, str | None]:
        """The narrowest inclusive key range the operators allow (None: open)."""
        lows = [v for v in (self.eq, self.gte, self.gt) if v is not None]
        highs = [v for v in (self.eq, self.lte, self.lt) if v is not None]
        if self.between is not None:
            lows.append(self.between[0])
            highs.append(self.between[1])
        prefix = self._prefix()
        if prefix:
            lows.append(prefix)
            highs.append(prefix + _TOP)
        return (max(lows) if lows else None, min(highs) if highs else None)

    def matches(self, key: str) -> bool:
        """Whether ``key`` meets every operator."""
        if self.eq is not None and key != self.eq:
            return False
        if (self.lt is not None and not key < self.lt) or (
                self.lte is not None and not key <= self.lte):
            return False
        if (self.gt is not None and not key > self.gt) or (
                self.gte is not None and not key >= self.gte):
            return False
        if self.between is not None and not self.between[0] <= key <= self.between[1]:
            return False
        return self.like is None or _like(self.like).fullmatch(key) is not None

    def _prefix(self) -> str:
        if self.like is None:
            return ""
        return re.split(r"[%_]", self.like, maxsplit=1)[0]


def _like(pattern: str) -> re.Pattern[str]:
    return re.compile("".join(".*" if c == "%" else "." if c == "_" else re.escape(c)
                              for c in pattern), re.DOTALL)


class SortedIndex:
    """One field of one kind of record: its ``(key, id)`` pairs in order."""

    def __init__(self) -> None:
        self._pairs: SortedList = SortedList()
        self._keys: dict[str, str] = {}

    def put(self, record_id: str, key: str | None) -> None:
        """Index the record under ``key`` (None: not in this index), moving it if its key
        changed."""
        old = self._keys.get(record_id)
        if old == key:
            return
        if old is not None:
            self._pairs.remove((old, record_id))
            del self._keys[record_id]
        if key is not None:
            self._pairs.add((key, record_id))
            self._keys[record_id] = key

    def key(self, record_id: str) -> str | None:
        """The record's key in this index, or None."""
        return self._keys.get(record_id)

    def scan(self, condition: Condition | None, after: tuple[str, str] | None,
             descending: bool) -> Iterator[tuple[str, str]]:
        """The pairs that ``condition`` allows, in order (reversed when ``descending``),
        from the one after ``after``."""
        low, high = (None, None) if condition is None else condition.bounds()
        minimum = None if low is None else (low, "")
        maximum = None if high is None else (high, _TOP)
        if after is not None:
            if descending:
                maximum = after if maximum is None else min(maximum, after)
            else:
                minimum = after if minimum is None else max(minimum, after)
        for pair in self._pairs.irange(minimum, maximum, reverse=descending):
            if pair == after:
                continue
            if condition is None or condition.matches(pair[0]):
                yield pair


def page(index: SortedIndex, condition: Condition | None, after: str | None, first: int,
         descending: bool, keep: Callable[[str], bool]) -> tuple[list[tuple[str, str]], bool]:
    """Up to ``first`` pairs after the cursor that ``keep`` accepts, and whether more
    follow."""
    found: list[tuple[str, str]] = []
    for pair in index.scan(condition, None if after is None else decode_cursor(after),
                           descending):
        if keep(pair[1]):
            if len(found) == first:
                return found, True
            found.append(pair)
    return found, False


def encode_cursor(pair: tuple[str, str]) -> str:
    """The cursor of a listed record: its key and id."""
    return base64.urlsafe_b64encode(json.dumps(list(pair)).encode()).decode()


def decode_cursor(cursor: str) -> tuple[str, str]:
    """The key and id of a cursor ``encode_cursor`` made."""
    try:
        pair = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, binascii.Error):
        pair = None
    if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) for p in pair)):
        raise CursorError(f"after: {cursor!r} is not a cursor this API returned")
    return pair[0], pair[1]
