"""The trace index: which execution a trace number belongs to.

The workflow processor writes an ``AchTrace`` when a generated file gives an execution its
trace number, in the transaction that keeps the execution; a return or a notification of
change names the original entry's trace number, and is matched through this index.
"""

from __future__ import annotations

from connectors.ach.records import AchTrace
from connectors.ach.topics import AchTopics
from streams.reading import read_committed


def trace_key(trace_number: str) -> bytes:
    """The key of a trace number's record."""
    return trace_number.encode()


def read_traces(bootstrap: str, topics: AchTopics) -> dict[str, AchTrace]:
    """Every committed trace number with its entry."""
    traces: dict[str, AchTrace] = {}
    for message in read_committed(bootstrap, topics.traces, range(topics.partitions)):
        if message.value() is not None:
            trace = AchTrace.model_validate_json(message.value())
            traces[trace.trace_number] = trace
    return traces
