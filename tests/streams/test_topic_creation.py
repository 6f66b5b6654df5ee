"""Creating topics asks again after a lost request, and only then."""

from concurrent.futures import Future
from typing import Any

import pytest
from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import NewTopic  # type: ignore[attr-defined]

from streams.errors import TopicLayoutError
from streams.topics import create_topics, record_bytes_max


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


class _Entry:
    def __init__(self, value: str) -> None:
        self.value = value


class _Describer:
    """Answers each describe request with UNKNOWN_TOPIC_OR_PART for the topics not yet known."""

    def __init__(self, unknown_for: dict[str, int]) -> None:
        self.unknown_for = dict(unknown_for)
        self.requests: list[list[str]] = []

    def describe_configs(self, resources: list[Any]) -> dict[Any, Future[dict[str, _Entry]]]:
        self.requests.append([r.name for r in resources])
        futures = {}
        for resource in resources:
            future: Future[dict[str, _Entry]] = Future()
            if self.unknown_for.get(resource.name, 0) > 0:
                self.unknown_for[resource.name] -= 1
                future.set_exception(KafkaException(KafkaError(KafkaError.UNKNOWN_TOPIC_OR_PART)))
            else:
                future.set_result({"max.message.bytes": _Entry("1048588")})
            futures[resource] = future
        return futures


def test_a_topic_the_broker_does_not_know_yet_is_described_again() -> None:
    """Seen on a 3-node cluster: the topics were just created and the broker that answered
    the describe had not heard of one yet; the processor exited during start-up."""
    describer = _Describer({"b": 2})
    assert record_bytes_max(describer, ["a", "b"]) == {"a": 1048588,  # type: ignore[arg-type]
                                                       "b": 1048588}
    assert describer.requests == [["a", "b"], ["b"], ["b"]]


def test_a_topic_that_stays_unknown_is_an_error() -> None:
    describer = _Describer({"a": 1_000})
    with pytest.raises(KafkaException):
        record_bytes_max(describer, ["a"], timeout_s=1.0)  # type: ignore[arg-type]
