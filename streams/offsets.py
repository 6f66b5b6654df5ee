"""Reading partition ends, with the retries a freshly created or moving partition needs."""

import time

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

from streams.errors import LedgerError

WATERMARK_TIMEOUT_S = 30.0
# Errors a partition shows while it has no leader yet (just created), while its leader
# moves, or while the client's metadata does not list a topic another client just created
# (on a cluster of several brokers the metadata reaches each broker at its own pace).
_LEADERLESS = {KafkaError.NOT_LEADER_FOR_PARTITION, KafkaError.UNKNOWN_TOPIC_OR_PART,
               KafkaError.LEADER_NOT_AVAILABLE, KafkaError._TIMED_OUT, KafkaError._TRANSPORT,
               KafkaError._ALL_BROKERS_DOWN, KafkaError._UNKNOWN_PARTITION,
               KafkaError._UNKNOWN_TOPIC}


def end_offset(consumer: Consumer, topic: str, partition: int,
               timeout_s: float = WATERMARK_TIMEOUT_S) -> int:
    """The partition's end as the consumer's isolation level sees it.

    Under ``read_committed`` that is the last stable offset; under ``read_uncommitted`` the
    high watermark. Retriable errors (no leader yet, leader moving) are retried.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            _low, high = consumer.get_watermark_offsets(
                TopicPartition(topic, partition), timeout=10, cached=False)
            return int(high)
        except KafkaException as exc:
            if not exc.args[0].retriable() and exc.args[0].code() not in _LEADERLESS:
                raise LedgerError(f"cannot read the end of {topic}[{partition}]: {exc}") from exc
            if time.monotonic() > deadline:
                raise LedgerError(f"no end offset for {topic}[{partition}] in {timeout_s:.0f}s: "
                                  f"{exc}") from exc
            time.sleep(0.2)
