"""Creating topics asks again after a lost request, and only then."""

from concurrent.futures import Future
from typing import Any

import pytest
from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import NewTopic  # type: ignore[attr-defined]

from streams.errors import TopicLayoutError
from streams.topics import create_topics


class _Controller:
    """Answers each create request with the next list of error codes (None: created)."""

    def __init__(self, *answers: list[int | None]) -> None:
        self.answers = list(answers)
        self.requests: list[list[str]] = []

    def create_topics(self, topics: list[NewTopic], **kwargs: Any) -> dict[str, Future[None]]:
        self.requests.append([t.topic for t in topics])
        futures = {}
        for topic, code in zip(topics, self.answers.pop(0), strict=True):
            future: Future[None] = Future()
            if code is None:
                future.set_result(None)
            else:
                future.set_exception(KafkaException(KafkaError(code)))
            futures[topic.topic] = future
        return futures


def test_a_request_lost_with_its_connection_is_sent_again() -> None:
    """Seen on a 3-node cluster just after start-up: Local: Broker handle destroyed."""
    controller = _Controller([None, KafkaError._DESTROY_BROKER],
                             [KafkaError.TOPIC_ALREADY_EXISTS])
    create_topics(controller, [NewTopic("a", 1, 1), NewTopic("b", 1, 1)])  # type: ignore[arg-type]
    assert controller.requests == [["a", "b"], ["b"]]


def test_a_refusal_no_retry_cures_is_raised_at_once() -> None:
    """Three replicas on one broker will not appear by waiting."""
    controller = _Controller([KafkaError.INVALID_REPLICATION_FACTOR])
    with pytest.raises(TopicLayoutError, match="could not create topic a"):
        create_topics(controller, [NewTopic("a", 1, 3)])  # type: ignore[arg-type]
    assert controller.requests == [["a"]]
