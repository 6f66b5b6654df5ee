"""The topics of the ACH workflows, under the ledger's prefix.

The commands, the executions and the results are co-partitioned by execution id (the same
partition count, the same key, Kafka's default partitioner), so the processor that owns a
commands partition owns every execution that partition's commands can name.
"""

from dataclasses import dataclass
from uuid import UUID

from streams.partitioning import partition_for_key
from streams.topics import TopicSpec


@dataclass(frozen=True)
class AchTopics:
    """The names and layout of the ACH workflow topics of the ledger ``prefix``."""

    prefix: str = "ledger"
    partitions: int = 6

    def _name(self, suffix: str) -> str:
        return f"{self.prefix}.{suffix}"

    @property
    def commands(self) -> str:
        """Workflow commands (a task for an execution), keyed by execution id."""
        return self._name("ach-workflow-commands")

    @property
    def executions(self) -> str:
        """The latest ``WorkflowExecution`` per execution id: compacted."""
        return self._name("ach-workflows")

    @property
    def results(self) -> str:
        """One result per workflow command, on the command's partition."""
        return self._name("ach-workflow-results")

    @property
    def processor_group(self) -> str:
        """The consumer group every workflow processor of this ledger joins."""
        return self._name("ach-workflow-processor")

    def specs(self) -> list[TopicSpec]:
        """Every ACH workflow topic with its layout."""
        n = self.partitions
        return [
            TopicSpec(self.commands, n, False, "ACH workflow commands"),
            TopicSpec(self.executions, n, True, "ACH workflow executions; restores them"),
            TopicSpec(self.results, n, False, "ACH workflow results"),
        ]

    def partition(self, execution_id: UUID) -> int:
        """The partition of ``execution_id``'s commands, execution and results."""
        return partition_for_key(execution_key(execution_id), self.partitions)


def execution_key(execution_id: UUID) -> bytes:
    """The key of every record about an execution: its id as text."""
    return str(execution_id).encode()
