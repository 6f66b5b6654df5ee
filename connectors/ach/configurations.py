"""ACH configurations as versioned entities on the ``ach-configurations`` topic.

Each version is one record keyed ``<configId>/<version>``, so compaction keeps every
version, and none is ever written twice: a version once written never changes, and every
execution and file names the version it used. A new version is written by
``create_configuration`` under one transactional id per ledger: ``init_transactions``
fences any other writer and completes its transaction, so the versions read before writing
are all there are and the next number is free.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any
from uuid import UUID

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from pydantic import ValidationError

from connectors.ach.records import encode
from connectors.ach.topics import AchTopics
from ledger_core.ach_tran_codes import AchConfiguration
from streams.checkpoint import CALL_TIMEOUT_S, guarded
from streams.errors import LedgerError
from streams.kafka_config import kafka_config
from streams.offsets import end_offset
from streams.reading import read_committed


class ConfigurationError(LedgerError):
    """A configuration that cannot be created as given; ``code`` names the rule."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def version_key(configuration: AchConfiguration) -> bytes:
    """The key of one version's record."""
    return f"{configuration.config_id}/{configuration.version}".encode()


def _decode(value: bytes) -> AchConfiguration:
    return AchConfiguration.model_validate_json(value)


def read_versions(bootstrap: str, topics: AchTopics) -> dict[tuple[UUID, int], AchConfiguration]:
    """Every committed version of every configuration."""
    return {(c.config_id, c.version): c
            for c in (_decode(m.value()) for m in
                      read_committed(bootstrap, topics.configurations, [0]))}


def read_configurations(bootstrap: str, topics: AchTopics) -> dict[UUID, AchConfiguration]:
    """The latest committed version of every configuration."""
    return latest(read_versions(bootstrap, topics).values())


def latest(versions: Any) -> dict[UUID, AchConfiguration]:
    """The highest version of each configuration among ``versions``."""
    found: dict[UUID, AchConfiguration] = {}
    for configuration in versions:
        held = found.get(configuration.config_id)
        if held is None or held.version < configuration.version:
            found[configuration.config_id] = configuration
    return found


def create_configuration(bootstrap: str, topics: AchTopics,
                         body: Mapping[str, Any]) -> tuple[AchConfiguration, bool]:
    """Write ``body`` (Twisp's ``ach.createConfiguration`` input, camelCase) as the next
    version of its configuration; return it and whether it is new. A body the same as the
    latest version writes nothing, so sending a configuration again is safe."""
    if "version" in body:
        raise ConfigurationError("ach_configuration_invalid",
                                 "version is assigned by the ledger, not given")
    try:
        proposed = AchConfiguration.model_validate({**body, "version": 1})
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ConfigurationError("ach_configuration_invalid",
                                 f"the configuration is invalid: {where}: {first['msg']}"
                                 ) from error
    producer = Producer(kafka_config(bootstrap, {
        "transactional.id": f"{topics.prefix}.ach-configurations", "linger.ms": 0}))
    try:
        guarded("init_transactions", producer.init_transactions, 60)
        current = read_configurations(bootstrap, topics).get(proposed.config_id)
        if current is not None and current.model_copy(update={"version": 1}) == proposed:
            return current, False
        version = 1 if current is None else current.version + 1
        configuration = proposed.model_copy(update={"version": version})
        producer.begin_transaction()
        producer.produce(topics.configurations, encode(configuration),
                         version_key(configuration), partition=0)
        guarded("commit_transaction", producer.commit_transaction, CALL_TIMEOUT_S)
        return configuration, True
    except KafkaException as exc:
        raise LedgerError(f"Kafka refused the configuration write: {exc.args[0]}") from exc
    finally:
        producer.flush(10)


class ConfigurationView(Mapping[UUID, AchConfiguration]):
    """The latest version of every configuration, followed from the topic by a consumer of
    its own (not in the processor's group: every processor needs every configuration)."""

    def __init__(self, bootstrap: str, topics: AchTopics) -> None:
        self._topic = topics.configurations
        self._consumer = Consumer(kafka_config(bootstrap, {
            "group.id": f"ach-configurations-{uuid.uuid4()}",
            "isolation.level": "read_committed", "enable.auto.commit": False}))
        self._consumer.assign([TopicPartition(self._topic, 0, 0)])
        self._held: dict[UUID, AchConfiguration] = {}
        self.catch_up()

    def refresh(self) -> None:
        """Take in the versions that have arrived, without waiting."""
        self._take(self._consumer.consume(1000, timeout=0))

    def catch_up(self) -> None:
        """Take in every version committed by now: a CREATE naming a configuration this view
        has not seen waits for it, so a configuration created just before is found."""
        end = end_offset(self._consumer, self._topic, 0)
        while self._consumer.position([TopicPartition(self._topic, 0)])[0].offset < end:
            self._take(self._consumer.consume(1000, timeout=0.1))

    def _take(self, messages: list[Any]) -> None:
        arrived = [_decode(m.value()) for m in messages
                   if m.error() is None and m.value() is not None]
        self._held.update(latest([*self._held.values(), *arrived]))

    def __getitem__(self, config_id: UUID) -> AchConfiguration:
        return self._held[config_id]

    def __iter__(self) -> Any:
        return iter(self._held)

    def __len__(self) -> int:
        return len(self._held)

    def close(self) -> None:
        """Stop following the topic."""
        self._consumer.close()
