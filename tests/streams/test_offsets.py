"""Reading a partition's end retries what a freshly created topic shows, and only that."""

from typing import Any

import pytest
from confluent_kafka import KafkaError, KafkaException

from streams.errors import LedgerError
from streams.offsets import end_offset


class _Partition:
    """Answers get_watermark_offsets with the given errors first, then (0, end)."""

    def __init__(self, errors: list[int], end: int) -> None:
        self.errors, self.end, self.calls = errors, end, 0

    def get_watermark_offsets(self, *args: Any, **kwargs: Any) -> tuple[int, int]:
        self.calls += 1
        if self.errors:
            raise KafkaException(KafkaError(self.errors.pop(0)))
        return 0, self.end


@pytest.mark.parametrize("code", [KafkaError._UNKNOWN_PARTITION, KafkaError._UNKNOWN_TOPIC,
                                  KafkaError.LEADER_NOT_AVAILABLE])
def test_a_topic_the_client_does_not_know_yet_is_retried(code: int) -> None:
    """Seen on a 3-node cluster right after the processor created its topics."""
    partition = _Partition([code, code], end=42)
    assert end_offset(partition, "t", 0) == 42  # type: ignore[arg-type]
    assert partition.calls == 3


def test_an_error_that_no_retry_cures_is_raised_at_once() -> None:
    """Authorization will not change by waiting."""
    partition = _Partition([KafkaError.TOPIC_AUTHORIZATION_FAILED], end=42)
    with pytest.raises(LedgerError, match="cannot read the end of t\\[0\\]"):
        end_offset(partition, "t", 0)  # type: ignore[arg-type]
    assert partition.calls == 1
