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
    def pending(self) -> str:
        """The task each execution waits on the ledger for, if any: compacted, keyed by
        execution id (a tombstone once the ledger decided)."""
        return self._name("ach-workflows-pending")

    @property
    def traces(self) -> str:
        """Which execution each trace number of a generated file belongs to: compacted,
        keyed by trace number; returns and NOCs are matched to their entries through it."""
        return self._name("ach-traces")

    @property
    def files(self) -> str:
        """The latest record of every NACHA file generated or received: compacted, keyed
        by file id."""
        return self._name("ach-files")

    @property
    def file_entries(self) -> str:
        """One record per entry of a file, generated or received (what became of it):
        compacted, keyed by file id and trace number."""
        return self._name("ach-file-entries")

    @property
    def notifications(self) -> str:
        """The corrected data of every notification of change received: compacted, keyed by
        the original entry's trace number."""
        return self._name("ach-notifications")

    @property
    def configurations(self) -> str:
        """Every version of every ACH configuration: compacted, keyed by id and version,
        so no version is ever compacted away."""
        return self._name("ach-configurations")

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
            TopicSpec(self.pending, n, True, "ACH tasks waiting for their posting"),
            TopicSpec(self.traces, n, True, "ACH trace numbers and their executions"),
            TopicSpec(self.files, n, True, "ACH files generated and received"),
            TopicSpec(self.file_entries, n, True, "ACH file entries and their outcomes"),
            TopicSpec(self.notifications, n, True, "ACH notifications of change"),
            TopicSpec(self.configurations, 1, True, "ACH configuration versions"),
        ]

    def partition(self, execution_id: UUID) -> int:
        """The partition of ``execution_id``'s commands, execution and results."""
        return partition_for_key(execution_key(execution_id), self.partitions)


def execution_key(execution_id: UUID) -> bytes:
    """The key of every record about an execution: its id as text."""
    return str(execution_id).encode()
