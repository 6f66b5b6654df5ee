"""The ledger's topics: names, partition counts and configs, created or checked on start.

Every topic is created explicitly; nothing relies on broker auto-creation. A topic that exists
with another partition count or cleanup policy stops the processor: repartitioning a ledger
moves account ownership, and that is never done implicitly.
"""

import time
from dataclasses import dataclass
from typing import Any

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic  # type: ignore[attr-defined]

from streams.errors import TopicLayoutError

FOREVER = "-1"


@dataclass(frozen=True)
class TopicSpec:
    """One topic of the ledger."""

    name: str
    partitions: int
    compacted: bool
    purpose: str

    @property
    def config(self) -> dict[str, str]:
        """The topic-level configs the ledger sets."""
        if self.compacted:
            return {"cleanup.policy": "compact", "min.compaction.lag.ms": "60000"}
        return {"cleanup.policy": "delete", "retention.ms": FOREVER, "retention.bytes": FOREVER}


@dataclass(frozen=True)
class Topics:
    """The names and layout of every topic of one ledger (``prefix`` separates ledgers)."""

    prefix: str = "ledger"
    partitions: int = 6

    def _name(self, suffix: str) -> str:
        return f"{self.prefix}.{suffix}"

    @property
    def processor_group(self) -> str:
        """The consumer group every processor of this ledger joins."""
        return self._name("processor")

    @property
    def commands(self) -> str:
        """Posting commands, keyed by the owner account."""
        return self._name("commands")

    @property
    def legs(self) -> str:
        """Entries on accounts another partition owns, keyed by account."""
        return self._name("legs")

    @property
    def catalog_commands(self) -> str:
        """Catalog changes, on one partition so they are serialised."""
        return self._name("catalog-commands")

    @property
    def catalog(self) -> str:
        """Journals, accounts, tran codes and limits: a compacted global table."""
        return self._name("catalog")

    @property
    def entries(self) -> str:
        """Every entry, keyed by account: the journal of record."""
        return self._name("entries")

    @property
    def transactions(self) -> str:
        """Posted transactions with their entries, on the partition that decided them."""
        return self._name("transactions")

    @property
    def balances(self) -> str:
        """Balance versions (CDC), compacted, on the owner account's partition."""
        return self._name("balances")

    @property
    def results(self) -> str:
        """One result per command, on the command's partition."""
        return self._name("results")

    @property
    def transaction_ids(self) -> str:
        """Which partition holds each transaction id, on the id's registry partition."""
        return self._name("transaction-ids")

    @property
    def id_claims(self) -> str:
        """Requests to the registry for an id, and its answers to the claimant."""
        return self._name("id-claims")

    @property
    def dead_letters(self) -> str:
        """Undecodable input with its raw bytes and origin."""
        return self._name("dead-letters")

    @property
    def webhook_dead_letters(self) -> str:
        """The webhook sink's events given up on (the sink creates it)."""
        return self._name("webhook-dead-letters")

    @property
    def webhook_status(self) -> str:
        """The webhook sink's disabled subscriptions (the sink creates it)."""
        return self._name("webhook-status")

    @property
    def webhook_group_prefix(self) -> str:
        """The start of every webhook subscription's consumer group."""
        return self._name("webhooks.")

    @property
    def auth(self) -> str:
        """The API's clients and keys (created by the API when it runs with authentication)."""
        return self._name("auth")

    def specs(self) -> list[TopicSpec]:
        """Every topic with its layout."""
        n = self.partitions
        return [
            TopicSpec(self.commands, n, False, "posting commands"),
            TopicSpec(self.legs, n, False, "entries for accounts other partitions own"),
            TopicSpec(self.catalog_commands, 1, False, "catalog commands"),
            TopicSpec(self.catalog, 1, True, "catalog (global table)"),
            TopicSpec(self.entries, n, False, "entries (journal of record)"),
            TopicSpec(self.transactions, n, False, "transactions; restores idempotency state"),
            TopicSpec(self.balances, n, True, "balances CDC; restores balance state"),
            TopicSpec(self.results, n, False, "results"),
            TopicSpec(self.transaction_ids, n, True, "transaction id registry; restores it"),
            TopicSpec(self.id_claims, n, False, "id claims and the registry's answers"),
            TopicSpec(self.dead_letters, 1, False, "dead letters"),
        ]


def existing_partitions(admin: AdminClient, prefix: str) -> int | None:
    """The partition count of the ledger ``prefix``'s commands topic, None before it exists:
    a processor started without ``--partitions`` joins the ledger as it was created."""
    return topic_partitions(admin, Topics(prefix=prefix).commands)


def topic_partitions(admin: AdminClient, name: str) -> int | None:
    """The partition count of topic ``name``, None before it exists."""
    found = admin.list_topics(name, timeout=15).topics.get(name)
    if found is None or found.error is not None or not found.partitions:
        return None
    return len(found.partitions)


def ensure_topics(admin: AdminClient, topics: Topics, replication: int | None = None) -> list[str]:
    """Create the ledger's missing topics and check the existing ones (``ensure_specs``)."""
    return ensure_specs(admin, topics.specs(), replication)


def ensure_specs(admin: AdminClient, specs: list[TopicSpec],
                 replication: int | None = None) -> list[str]:
    """Create the missing topics and check the existing ones; return the names created.

    Raises ``TopicLayoutError`` when an existing topic has another partition count or
    cleanup policy than the ledger needs.
    """
    metadata = admin.list_topics(timeout=15)
    brokers = len(metadata.brokers)
    factor = replication or min(3, brokers)
    existing = {spec.name: spec for spec in specs if spec.name in metadata.topics}
    missing = [spec for spec in specs if spec.name not in existing]
    if missing:
        create_topics(admin, [NewTopic(spec.name, spec.partitions, factor, config=spec.config)
                              for spec in missing])
    if existing:
        _check_layout(admin, metadata, list(existing.values()))
    return [spec.name for spec in missing]


# How long a topic just created may stay unknown to the broker asked about its
# configuration (on a 3-node cluster the other brokers learn of it a moment later).
DESCRIBE_UNKNOWN_TOPIC_S = 30.0


def record_bytes_max(admin: AdminClient, names: list[str],
                     timeout_s: float = DESCRIBE_UNKNOWN_TOPIC_S) -> dict[str, int]:
    """The largest record each topic accepts (its ``max.message.bytes``)."""
    return {name: int(config["max.message.bytes"].value)
            for name, config in _configs(admin, names, timeout_s).items()}


def _configs(admin: AdminClient, names: list[str],
             timeout_s: float = DESCRIBE_UNKNOWN_TOPIC_S) -> dict[str, Any]:
    """Each topic's configuration; a topic the answering broker does not know yet is asked
    for again until ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    found: dict[str, Any] = {}
    pending = list(names)
    while pending:
        resources = [ConfigResource(ConfigResource.Type.TOPIC, name) for name in pending]
        pending = []
        for resource, future in admin.describe_configs(resources).items():
            try:
                found[resource.name] = future.result()
            except KafkaException as exc:
                error: KafkaError = exc.args[0]
                if error.code() != KafkaError.UNKNOWN_TOPIC_OR_PART or \
                        time.monotonic() > deadline:
                    raise
                pending.append(resource.name)
        if pending:
            time.sleep(0.5)
    return found


# A create request that failed with one of these may not have reached the controller, or
# its answer was lost with the connection (seen on a 3-node cluster just after start-up):
# asking again is safe, and finds the topic if the first request created it.
_CREATE_AGAIN = {KafkaError._DESTROY_BROKER, KafkaError._TRANSPORT, KafkaError._TIMED_OUT}
CREATE_TIMEOUT_S = 60.0


def create_topics(admin: AdminClient, topics: list[NewTopic],
                  timeout_s: float = CREATE_TIMEOUT_S) -> None:
    """Create ``topics``; one that already exists counts as created.

    Raises ``TopicLayoutError`` for any other refusal, or when transient failures last
    beyond ``timeout_s``.
    """
    deadline = time.monotonic() + timeout_s
    pending = list(topics)
    while pending:
        futures = admin.create_topics(pending, operation_timeout=30)
        again = []
        for topic in pending:
            try:
                futures[topic.topic].result()
            except KafkaException as exc:
                error: KafkaError = exc.args[0]
                if error.code() == KafkaError.TOPIC_ALREADY_EXISTS:
                    continue
                if (error.retriable() or error.code() in _CREATE_AGAIN) \
                        and time.monotonic() < deadline:
                    again.append(topic)
                    continue
                raise TopicLayoutError(f"could not create topic {topic.topic}: {exc}") from exc
        pending = again
        if pending:
            time.sleep(0.5)


def _check_layout(admin: AdminClient, metadata: Any, specs: list[TopicSpec]) -> None:
    problems = []
    for spec in specs:
        actual = len(metadata.topics[spec.name].partitions)
        if actual != spec.partitions:
            problems.append(f"{spec.name} has {actual} partitions, the ledger needs "
                            f"{spec.partitions}")
    configs = _configs(admin, [spec.name for spec in specs])
    for spec in specs:
        policy = configs[spec.name]["cleanup.policy"].value
        wanted = spec.config["cleanup.policy"]
        if policy != wanted:
            problems.append(f"{spec.name} has cleanup.policy={policy}, the ledger needs {wanted}")
    if problems:
        raise TopicLayoutError(
            "existing topics do not match the ledger's layout: " + "; ".join(problems)
            + ". Fix them by hand (the ledger never repartitions or changes a policy itself) or "
            "use another --topic-prefix."
        )
