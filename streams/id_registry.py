"""The transaction id registry: every id posts at most once in the whole ledger.

A command's idempotency record lives on the partition that decides it (its owner
account's), so two commands with one transaction id but different owners would be decided
by two partitions that never see each other. The registry closes that gap: each id has a
*registry partition* (the id's 128-bit integer modulo the partition count), and the first
command to claim the id binds it, for good, to the partition that decides it. A later
command with the same id on another partition is refused as a duplicate; on the same
partition, that partition's own rules apply as before (a re-sent posting is a duplicate, a
rejected one may be tried again).

How a claim is made:

- the registry partition is owned by this process (always, with one processor): the claim
  is checked and written in the same Kafka transaction as the decision, to the compacted
  transaction-ids topic, which restores the registry like any changelog;
- it is owned by another process: the command's partition stops at that command, asks the
  registry on the id-claims topic (for that command and the later ones of its batch, so one
  round trip serves a batch), and is paused until the answer comes back on id-claims, on the
  claimant's partition. It then re-reads from the command that waited, so commands of one
  partition are still decided in their order. Answers are only messages: a claimant that
  crashes before deciding asks again and gets the same answer.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from schemas.codec import codec
from streams.outputs import Output
from streams.partition_task import PartitionTask, transaction_key
from streams.topics import Topics

__all__ = ["Claim", "IdRegistry"]

# Answers kept for commands that have not been decided yet; the oldest go first.
ANSWERS_MAX = 100_000
# A partition that waited this long for an answer asks again (its request may have been
# part of a batch that aborted).
ASK_AGAIN_AFTER_S = 10.0


@dataclass(frozen=True, slots=True)
class Claim:
    """What the registry knows of an id: the partition holding it (None: ask the registry),
    and the registry record to write when this claim binds the id."""

    holder: int | None
    outputs: tuple[Output, ...] = ()


@dataclass(slots=True)
class _Waiting:
    transaction_id: str
    offset: int
    since: float = field(default_factory=time.monotonic)


class IdRegistry:
    """The registry partitions this process owns, and its claims on the others."""

    def __init__(self, topics: Topics, tasks: dict[int, PartitionTask]) -> None:
        self._topics = topics
        self._tasks = tasks
        self._answers: dict[str, int] = {}
        self._asked: set[str] = set()
        # Commands partitions stopped at a command whose id the registry must confirm.
        self.waiting: dict[int, _Waiting] = {}

    def registry_partition(self, transaction_id: UUID) -> int:
        """The partition whose registry decides who holds ``transaction_id``: the id's
        integer modulo the partition count (every record to it names its partition, so it
        need not be Kafka's partitioner, and this costs nothing next to murmur2 in Python)."""
        return transaction_id.int % self._topics.partitions

    def claim(self, transaction_id: UUID, claimant: int, command_id: str,
              now: datetime) -> Claim:
        """Claim ``transaction_id`` for partition ``claimant``, if the registry is here."""
        key = transaction_key(transaction_id)
        registry_partition = self.registry_partition(transaction_id)
        registry = self._tasks.get(registry_partition)
        if registry is None:
            return Claim(self._answers.get(str(transaction_id)))
        held = registry.holder(key)
        if held is not None:
            return Claim(held)
        value = registry.stage_holder(key, {
            "transaction_id": str(transaction_id), "partition": claimant,
            "command_id": command_id, "claimed_at": now})
        return Claim(claimant, (Output(self._topics.transaction_ids, registry_partition, key,
                                       value, changelog=True),))

    def answered(self, transaction_id: UUID) -> bool:
        """True when the registry's answer for ``transaction_id`` has arrived."""
        return str(transaction_id) in self._answers

    def ask(self, transaction_id: UUID, claimant: int, command_id: str) -> list[Output]:
        """The request to the id's registry (none if this id was asked already)."""
        text = str(transaction_id)
        if text in self._asked:
            return []
        self._asked.add(text)
        key = transaction_key(transaction_id)
        value = codec().encode("id_claim", {"transaction_id": text, "claimant": claimant,
                                            "command_id": command_id, "holder": None})
        return [Output(self._topics.id_claims, self.registry_partition(transaction_id), key,
                       value)]

    def handle(self, record: dict[str, Any], partition: int, now: datetime) -> list[Output]:
        """A record of id-claims ``partition``: a request to this registry, or an answer."""
        transaction_id = record["transaction_id"]
        if record["holder"] is not None:
            self._remember(transaction_id, int(record["holder"]))
            return []
        registry = self._tasks[partition]
        key = transaction_key(UUID(transaction_id))
        claimant = int(record["claimant"])
        held = registry.holder(key)
        outputs = []
        if held is None:
            held = claimant
            value = registry.stage_holder(key, {
                "transaction_id": transaction_id, "partition": claimant,
                "command_id": record["command_id"], "claimed_at": now})
            outputs.append(Output(self._topics.transaction_ids, partition, key, value,
                                  changelog=True))
        answer = codec().encode("id_claim", {**record, "holder": held})
        outputs.append(Output(self._topics.id_claims, claimant, key, answer))
        return outputs

    def _remember(self, transaction_id: str, holder: int) -> None:
        self._asked.discard(transaction_id)
        self._answers[transaction_id] = holder
        if len(self._answers) > ANSWERS_MAX:
            for old in list(self._answers)[:ANSWERS_MAX // 10]:
                del self._answers[old]

    def decided(self, transaction_id: UUID) -> None:
        """The command that waited for this id's answer has been decided."""
        self._answers.pop(str(transaction_id), None)

    def wait(self, partition: int, transaction_id: UUID, offset: int) -> None:
        """Partition ``partition`` stops at ``offset`` until ``transaction_id`` is answered."""
        if partition not in self.waiting:
            self.waiting[partition] = _Waiting(str(transaction_id), offset)

    def ready(self) -> list[int]:
        """The waiting partitions that may go on: answered, or waiting too long (they ask
        again when they re-read their command)."""
        now = time.monotonic()
        ready = []
        for partition, waiting in list(self.waiting.items()):
            answered = waiting.transaction_id in self._answers
            if answered or now - waiting.since > ASK_AGAIN_AFTER_S:
                if not answered:
                    self._asked.discard(waiting.transaction_id)
                del self.waiting[partition]
                ready.append(partition)
        return ready

    def forget_partitions(self, partitions: list[int]) -> None:
        """Partitions revoked or lost: their new owner re-reads from the committed offsets."""
        for partition in partitions:
            self.waiting.pop(partition, None)

    def discard_pending(self) -> None:
        """The batch aborted: its requests were never sent."""
        self._asked.clear()
