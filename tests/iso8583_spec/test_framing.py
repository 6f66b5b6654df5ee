"""Framing: the length prefix, a stream cut anywhere, and the lengths refused."""

from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from iso8583_spec import FRAME_SIZE_MAX, FrameReader, RefusedFrame, frame


def test_a_frame_is_its_big_endian_length_then_the_payload() -> None:
    assert frame(b"0800") == b"\x00\x040800"
    assert frame(b"x" * 300)[:2] == b"\x01\x2c"


def test_empty_and_oversized_payloads_cannot_be_framed() -> None:
    with pytest.raises(ValueError, match="1 to 8192 bytes, not 0"):
        frame(b"")
    with pytest.raises(ValueError, match="not 8193"):
        frame(b"x" * (FRAME_SIZE_MAX + 1))
    assert len(frame(b"x" * FRAME_SIZE_MAX)) == FRAME_SIZE_MAX + 2


def test_a_frame_split_across_feeds_comes_out_once_whole() -> None:
    reader = FrameReader()
    stream = frame(b"hello")
    assert reader.feed(stream[:1]) == []
    assert reader.feed(stream[1:4]) == []
    assert reader.buffered == 4
    assert reader.feed(stream[4:]) == [b"hello"]
    assert reader.buffered == 0


def test_several_frames_in_one_feed_come_out_in_order() -> None:
    reader = FrameReader()
    assert reader.feed(frame(b"a") + frame(b"bc") + frame(b"def")[:3]) == [b"a", b"bc"]
    assert reader.feed(b"ef") == [b"def"]


def test_a_zero_length_is_refused_and_the_stream_goes_on() -> None:
    reader = FrameReader()
    assert reader.feed(b"\x00\x00" + frame(b"next")) == [
        RefusedFrame(declared=0, reason="declared length 0"), b"next"]


def test_an_oversized_frame_is_refused_skipped_and_never_buffered() -> None:
    reader = FrameReader(max_size=16)
    assert reader.feed(b"\x00\x11" + b"x" * 10) == [
        RefusedFrame(declared=17, reason="declared length 17 above the maximum 16")]
    assert reader.buffered == 0
    assert reader.feed(b"x" * 7 + frame(b"after")) == [b"after"]


def test_the_largest_prefix_is_refused_without_holding_its_bytes() -> None:
    reader = FrameReader()
    refused = reader.feed(b"\xff\xff")
    assert refused == [RefusedFrame(65535, f"declared length 65535 above the maximum "
                                           f"{FRAME_SIZE_MAX}")]
    for _ in range(8):
        assert reader.feed(b"y" * 8191) == []
        assert reader.buffered == 0
    assert reader.feed(b"y" * 7 + frame(b"ok")) == [b"ok"]


def test_the_maximum_must_fit_the_prefix() -> None:
    with pytest.raises(ValueError, match="max_size"):
        FrameReader(max_size=65536)
    with pytest.raises(ValueError, match="max_size"):
        FrameReader(max_size=0)


@given(payloads=st.lists(st.binary(min_size=1, max_size=300), max_size=8),
       cuts=st.lists(st.integers(0, 3000), max_size=12))
def test_any_cutting_of_a_stream_gives_back_its_payloads(payloads: list[bytes],
                                                          cuts: list[int]) -> None:
    stream = b"".join(frame(payload) for payload in payloads)
    bounds = sorted({0, len(stream), *(cut for cut in cuts if cut < len(stream))})
    reader = FrameReader(max_size=300)
    out: list[bytes | RefusedFrame] = []
    for start, end in pairwise(bounds):
        out += reader.feed(stream[start:end])
        assert reader.buffered <= 302
    assert out == payloads
    assert reader.buffered == 0


@given(st.binary(max_size=2000), st.integers(1, 64))
def test_any_bytes_keep_the_buffer_bounded(data: bytes, max_size: int) -> None:
    reader = FrameReader(max_size=max_size)
    for item in reader.feed(data):
        assert isinstance(item, RefusedFrame) or 0 < len(item) <= max_size
    assert reader.buffered <= max_size + 2
