"""The read model's list indexes, pure: ranges, Twisp's operators, moves and cursors."""

import pytest

from connectors.graphql_api.indexes import (
    Condition,
    CursorError,
    SortedIndex,
    decode_cursor,
    encode_cursor,
    page,
)


def _index(**keys: str | None) -> SortedIndex:
    index = SortedIndex()
    for record_id, key in keys.items():
        index.put(record_id, key)
    return index


def _ids(index: SortedIndex, condition: Condition | None = None, descending: bool = False,
         after: str | None = None, first: int = 100) -> list[str]:
    pairs, _more = page(index, condition, after, first, descending, lambda _id: True)
    return [record_id for _key, record_id in pairs]


NAMES = _index(a="Ernie", b="Bert", c="Elmo", d="Oscar", e="Ernie", f="Abby", g=None)


@pytest.mark.parametrize(("condition", "expected"), [
    (None, ["f", "b", "c", "a", "e", "d"]),
    (Condition(eq="Ernie"), ["a", "e"]),
    (Condition(like="E%"), ["c", "a", "e"]),
    (Condition(like="%r%"), ["b", "a", "e", "d"]),
    (Condition(like="E_mo"), ["c"]),
    (Condition(lt="Elmo"), ["f", "b"]),
    (Condition(lte="Elmo"), ["f", "b", "c"]),
    (Condition(gt="Ernie"), ["d"]),
    (Condition(gte="Ernie"), ["a", "e", "d"]),
    (Condition(between=("Bert", "Elmo")), ["b", "c"]),
    (Condition(like="E%", lt="Ernie"), ["c"]),
    (Condition(eq="Zoe"), []),
])
def test_conditions_select_their_range_in_key_then_id_order(
        condition: Condition | None, expected: list[str]) -> None:
    """Each operator of FilterValue; a record without the field is in no range."""
    assert _ids(NAMES, condition) == expected


def test_pages_follow_their_cursor_both_ways() -> None:
    """Pages of two walk the whole index, ascending and descending, with no gap or repeat."""
    for descending, expected in ((False, ["f", "b", "c", "a", "e", "d"]),
                                 (True, ["d", "e", "a", "c", "b", "f"])):
        seen: list[str] = []
        after = None
        while True:
            pairs, more = page(NAMES, None, after, 2, descending, lambda _id: True)
            seen += [record_id for _key, record_id in pairs]
            if not more:
                break
            after = encode_cursor(pairs[-1])
        assert seen == expected


def test_a_filter_skips_records_and_a_moved_record_is_found_at_its_new_key() -> None:
    """``keep`` filters the range; ``put`` with a new key moves a record, None removes it."""
    index = _index(a="1", b="2", c="3")
    pairs, more = page(index, None, None, 1, False, lambda record_id: record_id != "a")
    assert (pairs, more) == ([("2", "b")], True)
    index.put("a", "9")
    index.put("b", None)
    assert _ids(index) == ["c", "a"]
    assert index.key("a") == "9" and index.key("b") is None


@pytest.mark.parametrize("cursor", ["nonsense", encode_cursor(("a", "b"))[:-3] + "!!!",
                                    "WzFd"])
def test_cursors_not_handed_out_are_refused(cursor: str) -> None:
    """A cursor must decode to a key and an id."""
    with pytest.raises(CursorError):
        decode_cursor(cursor)
