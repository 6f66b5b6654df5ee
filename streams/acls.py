"""The Kafka ACLs each role of a ledger needs, and no more.

With an authorizer on the cluster, a principal may do only what an ACL allows. The roles:

- ``processor``: reads its inputs and the changelogs it restores from, writes every output,
  creates the ledger's topics, joins the processors' group and commits with its
  transactional id;
- ``api``: sends commands and catalog commands, reads their results and what the API
  shows (the catalog and the transactions), and keeps its clients and keys;
- ``producer``: sends posting commands and reads their results;
- ``sink``: reads the topics a sink carries outside Kafka (entries, transactions,
  balances, results) and commits its own group's offsets (the Parquet sink's is
  ``<prefix>.parquet-sink``);
- ``webhook-sink``: reads what it sends, commits each subscription's group
  (``<prefix>.webhooks.<id>``), and keeps its dead letters and disabled subscriptions.

No role but the processor writes ``legs``, ``catalog``, ``balances``, ``entries``,
``transactions``, ``transaction-ids`` or ``id-claims``: those records move money or are the
ledger's state, and a forged one would be folded or restored as if the ledger had written
it. The read-only consumers a client opens with ``assign()`` never join or commit a group,
so they need no group ACL.
"""

from collections.abc import Iterable
from dataclasses import dataclass

# From their modules: confluent_kafka.admin does not re-export them for type checkers.
from confluent_kafka.admin._acl import AclBinding, AclOperation, AclPermissionType
from confluent_kafka.admin._resource import ResourcePatternType, ResourceType

from streams.topics import Topics

ROLES = ("processor", "api", "producer", "sink", "webhook-sink")


@dataclass(frozen=True)
class Grant:
    """Operations allowed on one resource (or every resource whose name starts so)."""

    resource: ResourceType
    name: str
    operations: tuple[AclOperation, ...]
    prefixed: bool = False

    def describe(self) -> str:
        """One line: ``TOPIC ledger.commands: WRITE, DESCRIBE``."""
        pattern = "* (prefix)" if self.prefixed else ""
        return (f"{self.resource.name} {self.name}{pattern}: "
                + ", ".join(operation.name for operation in self.operations))


def grants(role: str, topics: Topics, sink_group: str | None = None) -> list[Grant]:
    """The ACLs of ``role`` for the ledger of ``topics`` (``sink_group``: the sink's group)."""
    read, write, describe = AclOperation.READ, AclOperation.WRITE, AclOperation.DESCRIBE
    topic, group = ResourceType.TOPIC, ResourceType.GROUP

    def topic_grants(names: Iterable[str], *operations: AclOperation) -> list[Grant]:
        return [Grant(topic, name, operations) for name in names]

    if role == "processor":
        writes = {topics.entries, topics.legs, topics.balances, topics.transactions,
                  topics.results, topics.transaction_ids, topics.id_claims,
                  topics.dead_letters, topics.catalog}
        # Its inputs, and the changelogs it restores its state from.
        reads = {topics.commands, topics.legs, topics.id_claims, topics.catalog_commands,
                 topics.catalog, topics.balances, topics.transactions, topics.transaction_ids,
                 topics.entries, topics.results}
        return [
            # Creates the ledger's topics at start and checks their configuration.
            Grant(topic, f"{topics.prefix}.", (AclOperation.CREATE, describe,
                                               AclOperation.DESCRIBE_CONFIGS), prefixed=True),
            *[Grant(topic, name, tuple(operation for operation, names in
                                       ((read, reads), (write, writes)) if name in names))
              for name in sorted(reads | writes)],
            Grant(group, topics.processor_group, (read, describe)),
            Grant(ResourceType.TRANSACTIONAL_ID, f"{topics.prefix}.processor.",
                  (write, describe), prefixed=True),
            # The processor names the cluster it restores from (its state records it).
            Grant(ResourceType.BROKER, "kafka-cluster", (describe,)),
        ]
    if role == "api":
        return [
            *topic_grants([topics.commands, topics.catalog_commands], write, describe),
            *topic_grants([topics.results, topics.catalog, topics.transactions], read,
                          describe),
            # Its clients and keys, when it runs with authentication: it creates the topic.
            Grant(topic, topics.auth, (AclOperation.CREATE, read, write, describe)),
        ]
    if role == "producer":
        return [
            *topic_grants([topics.commands], write, describe),
            *topic_grants([topics.results], read, describe),
            # Where the legs topic ends and the processors' group stands there: a producer
            # may wait until every leg of its postings is applied (``wait_converged``).
            *topic_grants([topics.legs], describe),
            Grant(group, topics.processor_group, (describe,)),
        ]
    if role == "sink":
        if sink_group is None:
            raise ValueError("the sink role needs the sink's consumer group")
        return [
            *topic_grants([topics.entries, topics.transactions, topics.balances,
                           topics.results], read, describe),
            Grant(group, sink_group, (read, describe)),
        ]
    if role == "webhook-sink":
        return [
            *topic_grants([topics.balances, topics.transactions, topics.results], read,
                          describe),
            *topic_grants([topics.webhook_dead_letters, topics.webhook_status],
                          AclOperation.CREATE, read, write, describe),
            Grant(group, topics.webhook_group_prefix, (read, describe), prefixed=True),
        ]
    raise ValueError(f"unknown role {role!r}: one of {', '.join(ROLES)}")


def acl_bindings(principal: str, role_grants: Iterable[Grant]) -> list[AclBinding]:
    """The grants as ALLOW bindings for ``principal`` (``User:name``), from any host."""
    return [AclBinding(grant.resource, grant.name,
                       ResourcePatternType.PREFIXED if grant.prefixed
                       else ResourcePatternType.LITERAL,
                       principal, "*", operation, AclPermissionType.ALLOW)
            for grant in role_grants for operation in grant.operations]
